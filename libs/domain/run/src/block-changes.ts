/**
 * The pure rules of Letta's `memory` tool commands that change which blocks an agent has
 * (`create`, `delete`, `rename`): what a label may be and how many blocks an agent may have. The
 * same rules hold for the API (BlockLabel in the gateway's create-agent DTO, LIMITS there).
 */

/** Letters, digits, `_` and `-`, in segments joined by single `/` (e.g. `system/notes`). */
export const BLOCK_LABEL_PATTERN = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;
/** Longest label (the API's name length). */
export const BLOCK_LABEL_MAX_CHARS = 256;
/** Most blocks one agent may have (the API's LIMITS.blocks). */
export const MAX_AGENT_BLOCKS = 1_000;
/** A block created by the agent gets the API's default limit, or its value's length if longer is refused. */
export const AGENT_CREATED_BLOCK_CHAR_LIMIT = 100_000;

/** Why `label` cannot name a block, or null when it can. */
export function blockLabelError(label: string): string | null {
  if (label === '') return 'Error: the memory path names no block; give one like /memories/notes.';
  if (label.length > BLOCK_LABEL_MAX_CHARS) return `Error: a block label has at most ${BLOCK_LABEL_MAX_CHARS} characters.`;
  if (!BLOCK_LABEL_PATTERN.test(label)) {
    return `Error: '${label}' is not a valid block label: it may contain only letters, digits, _ and -, in segments joined by single '/' (e.g. system/notes).`;
  }
  return null;
}

/** What the tool answers for a change, as Letta's `memory` tool words it. */
export const blockChangeMessages = {
  created: (label: string) => `Successfully created memory block '${label}'.`,
  deleted: (label: string) => `Successfully deleted memory block '${label}'.`,
  renamed: (label: string, newLabel: string) => `Successfully renamed memory block '${label}' to '${newLabel}'.`,
  described: (label: string) => `Successfully updated the description of memory block '${label}'.`,
};
