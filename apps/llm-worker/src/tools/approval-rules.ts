import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { baseToolsNamed, type ClientTool } from '@lrs/contracts';

/**
 * The tools offered to the model: the agent's server tools, then the request's client tools.
 * A client tool replaces a server tool of the same name, as in Letta.
 */
export function toolSchemas(serverToolNames: string[], clientTools: ClientTool[]): ChatCompletionTool[] {
  const clientNames = new Set(clientTools.map((tool) => tool.name));
  const server = baseToolsNamed(serverToolNames.filter((name) => !clientNames.has(name))).map((tool) => fn(tool.name, tool.description, tool.parameters));
  const client = clientTools.map((tool) => fn(tool.name, tool.description ?? '', tool.parameters ?? { type: 'object', properties: {} }));
  return [...server, ...client];
}

function fn(name: string, description: string, parameters: Record<string, unknown>): ChatCompletionTool {
  return { type: 'function', function: { name, description, parameters } };
}

/** A call pauses the run when the client must run it, or a tool rule asks for human approval. */
export function approvalRequired(toolRules: unknown[], clientTools: ClientTool[]): (toolName: string) => boolean {
  const gated = new Set(
    toolRules
      .filter((rule): rule is { type: string; tool_name: string } => typeof rule === 'object' && rule !== null && 'tool_name' in rule && 'type' in rule)
      .filter((rule) => rule.type === 'requires_approval')
      .map((rule) => rule.tool_name),
  );
  const client = new Set(clientTools.map((tool) => tool.name));
  return (toolName) => client.has(toolName) || gated.has(toolName);
}
