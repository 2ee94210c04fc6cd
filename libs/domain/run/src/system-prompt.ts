/**
 * The system prompt the model sees: the agent's template with its memory blocks compiled in
 * where the template says `{CORE_MEMORY}` (appended when it does not), as Letta agents expect.
 */
export interface PromptBlock {
  label: string;
  value: string;
  limit: number;
  description: string | null;
  readOnly: boolean;
}

export interface PromptMetadata {
  agentId: string;
  previousMessageCount: number;
}

export const CORE_MEMORY_PLACEHOLDER = '{CORE_MEMORY}';

export const DEFAULT_SYSTEM_PROMPT = [
  'You are a helpful, stateful assistant.',
  'Your core memory below holds what you know about the user and yourself; keep it accurate.',
  'Answer the user directly and concisely.',
].join('\n');

export function compileSystemPrompt(template: string, blocks: PromptBlock[], metadata: PromptMetadata): string {
  const memory = renderMemory(blocks, metadata);
  if (template.includes(CORE_MEMORY_PLACEHOLDER)) return template.split(CORE_MEMORY_PLACEHOLDER).join(memory);
  return `${template}\n\n${memory}`;
}

function renderMemory(blocks: PromptBlock[], metadata: PromptMetadata): string {
  const lines = ['<memory_blocks>', 'The following memory blocks are currently engaged in your core memory unit:', ''];
  for (const block of blocks) {
    lines.push(`<${block.label}>`);
    if (block.description) lines.push('<description>', block.description, '</description>');
    lines.push('<metadata>');
    if (block.readOnly) lines.push('- read_only=true');
    lines.push(`- chars_current=${block.value.length}`, `- chars_limit=${block.limit}`, '</metadata>');
    lines.push('<value>', block.value, '</value>', `</${block.label}>`, '');
  }
  lines.push('</memory_blocks>', '', '<memory_metadata>', `- AGENT_ID: ${metadata.agentId}`);
  lines.push(`- ${metadata.previousMessageCount} previous messages between you and the user are stored in recall memory`);
  lines.push('</memory_metadata>');
  return lines.join('\n');
}
