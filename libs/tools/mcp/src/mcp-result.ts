/** A tool's answer as the agent loop takes it: the text the model reads, and whether the server called it an error. */
export interface McpToolResult {
  isError: boolean;
  text: string;
}

/** One tool a server lists: its name, description and the JSON schema of its arguments. */
export interface McpToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

type ContentItem = { type?: unknown; text?: unknown; mimeType?: unknown; uri?: unknown; name?: unknown; resource?: unknown };

/**
 * The text of a `tools/call` result: its text content, joined; other content named in words (an
 * image or audio clip is not text the model can read here); the structured content as JSON when
 * no text came with it (servers should send both, not all do). Cut at `maxChars`, saying so, so a
 * server that answers megabytes costs the step no more than that.
 */
export function resultText(result: { content?: unknown; structuredContent?: unknown; toolResult?: unknown }, maxChars: number): string {
  const parts: string[] = [];
  const content = Array.isArray(result.content) ? (result.content as ContentItem[]) : [];
  for (const item of content) {
    if (item === null || typeof item !== 'object') continue;
    switch (item.type) {
      case 'text':
        parts.push(String(item.text ?? ''));
        break;
      case 'image':
      case 'audio':
        parts.push(`[${item.type} content (${String(item.mimeType ?? 'unknown type')}) omitted]`);
        break;
      case 'resource': {
        const resource = (item.resource ?? {}) as { uri?: unknown; text?: unknown };
        parts.push(typeof resource.text === 'string' ? resource.text : `[resource ${String(resource.uri ?? '')}]`);
        break;
      }
      case 'resource_link':
        parts.push(`[resource link ${String(item.name ?? '')} ${String(item.uri ?? '')}]`.replace(/\s+]/, ']'));
        break;
      default:
        break;
    }
    // Enough already: the rest would be cut anyway.
    if (parts.reduce((size, part) => size + part.length, 0) > maxChars) break;
  }
  let text = parts.join('\n');
  if (!parts.length && result.structuredContent !== undefined) text = JSON.stringify(result.structuredContent);
  // Servers of the protocol's first version answer `toolResult` instead of content.
  if (!parts.length && result.structuredContent === undefined && result.toolResult !== undefined) text = typeof result.toolResult === 'string' ? result.toolResult : JSON.stringify(result.toolResult);
  return capped(text, maxChars);
}

export function capped(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}... [the MCP server's answer was cut at ${maxChars} of its ${text.length} characters]`;
}

/** A server's tool list made safe to store: names and schemas as objects, descriptions as text. */
export function toolDefinitions(tools: unknown): McpToolDefinition[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .filter((tool): tool is { name: string; description?: unknown; inputSchema?: unknown } => typeof tool === 'object' && tool !== null && typeof (tool as { name?: unknown }).name === 'string')
    .map((tool) => ({
      name: tool.name,
      description: typeof tool.description === 'string' ? tool.description : '',
      inputSchema: typeof tool.inputSchema === 'object' && tool.inputSchema !== null && !Array.isArray(tool.inputSchema) ? (tool.inputSchema as Record<string, unknown>) : { type: 'object', properties: {} },
    }));
}
