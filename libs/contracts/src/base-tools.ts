/**
 * The server-side tools of a letta_v1_agent (`include_base_tools`). Names and argument names are
 * Letta's, so prompts and clients written for Letta work unchanged. Ids are fixed so the same
 * tool has the same id on every server.
 */
export interface ToolDefinition {
  id: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export const BASE_TOOLS: readonly ToolDefinition[] = [
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b01',
    name: 'memory_insert',
    description:
      'Insert text into one of your memory blocks at a given line. Use it to record new facts about the user or yourself.',
    parameters: {
      type: 'object',
      properties: {
        label: { type: 'string', description: 'Label of the memory block to edit.' },
        new_str: { type: 'string', description: 'The text to insert. Do not include line numbers.' },
        insert_line: { type: 'integer', description: 'Line after which to insert (0 = at the start, -1 = at the end). Default -1.' },
      },
      required: ['label', 'new_str'],
    },
  },
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b02',
    name: 'memory_replace',
    description:
      'Replace one exact occurrence of a string in a memory block. old_str must appear exactly once; an empty new_str deletes it.',
    parameters: {
      type: 'object',
      properties: {
        label: { type: 'string', description: 'Label of the memory block to edit.' },
        old_str: { type: 'string', description: 'The exact text to replace, including whitespace.' },
        new_str: { type: 'string', description: 'The replacement text.' },
      },
      required: ['label', 'old_str', 'new_str'],
    },
  },
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b03',
    name: 'conversation_search',
    description: 'Search your earlier conversation history (all past messages, not only what is in context) for text.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Text to look for (case-insensitive).' },
        roles: { type: 'array', items: { type: 'string', enum: ['assistant', 'user', 'tool'] }, description: 'Only messages of these roles.' },
        limit: { type: 'integer', description: 'Most results to return (default 5, at most 50).' },
        start_date: { type: 'string', description: 'ISO 8601 date or time; only messages at or after it.' },
        end_date: { type: 'string', description: 'ISO 8601 date or time; only messages at or before it.' },
      },
      required: ['query'],
    },
  },
];

export const BASE_TOOL_NAMES: readonly string[] = BASE_TOOLS.map((tool) => tool.name);

/** The named base tools in order; names this server does not provide are skipped. */
export function baseToolsNamed(names: readonly string[]): ToolDefinition[] {
  return names.map(baseTool).filter((tool): tool is ToolDefinition => tool !== undefined);
}

export function baseTool(name: string): ToolDefinition | undefined {
  return BASE_TOOLS.find((tool) => tool.name === name);
}
