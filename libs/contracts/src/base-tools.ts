/**
 * The server-side tools of a letta_v1_agent (`include_base_tools`). Names and argument names are
 * Letta's, so prompts and clients written for Letta work unchanged. Ids are fixed so the same
 * tool has the same id on every server.
 */
import { LETTA_MEMORY_TOOLS } from './letta-memory-tools';
import { LETTA_BUILTIN_TOOLS } from './builtin-tools';

export interface ToolDefinition {
  id: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  /** Letta's tool_type; unset: a memory tool (`letta_memory_core`), or `letta_core` for conversation_search. */
  toolType?: string;
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
        query: { type: 'string', description: 'Words to look for, case-insensitive: every word must appear ("a phrase" in quotes, `or` between alternatives, -word to exclude, as in a web search).' },
        roles: { type: 'array', items: { type: 'string', enum: ['assistant', 'user', 'tool'] }, description: 'Only messages of these roles.' },
        limit: { type: 'integer', description: 'Most results to return (default 5, at most 50).' },
        start_date: { type: 'string', description: 'ISO 8601 date or time; only messages at or after it.' },
        end_date: { type: 'string', description: 'ISO 8601 date or time; only messages at or before it.' },
      },
      required: ['query'],
    },
  },
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b04',
    name: 'archival_memory_insert',
    description:
      'Add information to long-term archival memory for later retrieval by meaning. Store self-contained facts or summaries, with descriptive tags.',
    parameters: {
      type: 'object',
      properties: {
        content: { type: 'string', description: 'The information to store. Should be clear and self-contained.' },
        tags: { type: 'array', items: { type: 'string' }, description: 'Optional category tags, e.g. ["meetings", "project-updates"].' },
      },
      required: ['content'],
    },
  },
  {
    id: 'tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b05',
    name: 'archival_memory_search',
    description: 'Search archival memory by meaning (semantic similarity), not exact words. Results are ranked by relevance.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: "What you are looking for, described naturally (e.g. 'meetings about API redesign')." },
        tags: { type: 'array', items: { type: 'string' }, description: 'Only memories with these tags (see tag_match_mode).' },
        tag_match_mode: { type: 'string', enum: ['any', 'all'], description: "'any': memories with any of the tags; 'all': with all of them. Default 'any'." },
        top_k: { type: 'integer', description: 'Most results to return (default 10, at most 100).' },
        start_datetime: { type: 'string', description: 'ISO 8601 date or time; only memories created at or after it.' },
        end_datetime: { type: 'string', description: 'ISO 8601 date or time; only memories created at or before it.' },
      },
      required: ['query'],
    },
  },
  ...LETTA_MEMORY_TOOLS,
  ...LETTA_BUILTIN_TOOLS,
];

export const BASE_TOOL_NAMES: readonly string[] = BASE_TOOLS.map((tool) => tool.name);

/** The base tools a letta_v1_agent gets by default (`include_base_tools`), as in Letta; the archival ones are attached by name or id. */
export const DEFAULT_BASE_TOOL_NAMES: readonly string[] = ['memory_insert', 'memory_replace', 'conversation_search'];

/** The named base tools in order; names this server does not provide are skipped. */
export function baseToolsNamed(names: readonly string[]): ToolDefinition[] {
  return names.map(baseTool).filter((tool): tool is ToolDefinition => tool !== undefined);
}

export function baseTool(name: string): ToolDefinition | undefined {
  return BASE_TOOLS.find((tool) => tool.name === name);
}

/** Letta's tool_type of a base tool. */
export function baseToolType(tool: ToolDefinition): string {
  return tool.toolType ?? (tool.name === 'conversation_search' ? 'letta_core' : 'letta_memory_core');
}
