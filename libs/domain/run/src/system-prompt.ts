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
  /** Passages in the archives the agent searches; the line is left out when not known. */
  archivalMemoryCount?: number;
}

export const CORE_MEMORY_PLACEHOLDER = '{CORE_MEMORY}';

export const DEFAULT_SYSTEM_PROMPT = [
  'You are a helpful, stateful assistant.',
  'Your core memory below holds what you know about the user and yourself; keep it accurate.',
  'Answer the user directly and concisely.',
].join('\n');

export function compileSystemPrompt(template: string, blocks: PromptBlock[], metadata: PromptMetadata): string {
  const { coreMemory, memoryMetadata } = memorySections(blocks, metadata);
  const memory = `${coreMemory}\n\n${memoryMetadata}`;
  if (template.includes(CORE_MEMORY_PLACEHOLDER)) return template.split(CORE_MEMORY_PLACEHOLDER).join(memory);
  return `${template}\n\n${memory}`;
}

/** The compiled memory's two parts, which the context overview counts apart: the blocks, and the recall metadata. */
export function memorySections(blocks: PromptBlock[], metadata: PromptMetadata): { coreMemory: string; memoryMetadata: string } {
  const lines = ['<memory_blocks>', 'The following memory blocks are currently engaged in your core memory unit:', ''];
  for (const block of blocks) {
    lines.push(`<${block.label}>`);
    if (block.description) lines.push('<description>', block.description, '</description>');
    lines.push('<metadata>');
    if (block.readOnly) lines.push('- read_only=true');
    lines.push(`- chars_current=${block.value.length}`, `- chars_limit=${block.limit}`, '</metadata>');
    lines.push('<value>', block.value, '</value>', `</${block.label}>`, '');
  }
  lines.push('</memory_blocks>');
  const memoryMetadata = [
    '<memory_metadata>',
    `- AGENT_ID: ${metadata.agentId}`,
    `- ${metadata.previousMessageCount} previous messages between you and the user are stored in recall memory`,
    ...(metadata.archivalMemoryCount === undefined ? [] : [`- ${metadata.archivalMemoryCount} total memories you created are stored in archival memory (use tools to access them)`]),
    '</memory_metadata>',
  ].join('\n');
  return { coreMemory: lines.join('\n'), memoryMetadata };
}
