import type { ToolDefinition } from './base-tools';

/**
 * Letta's other memory tools and `send_message`, for agents written for them (agent files of
 * MemGPT-style and sleep-time agents carry them). Attachable by name or id, never attached by
 * default. Names and argument names are Letta's; every edit is one of the server's edit
 * operations (docs/memory.md, "Letta's memory tools").
 */
const label = { type: 'string', description: 'Label of the memory block to edit.' };

/** A tool with a fixed id (the same on every server) and an object of named arguments. */
function tool(idSuffix: string, name: string, description: string, properties: Record<string, unknown>, required: string[]): ToolDefinition {
  return { id: `tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b${idSuffix}`, name, description, parameters: { type: 'object', properties, required } };
}

const text = (description: string) => ({ type: 'string', description });

export const LETTA_MEMORY_TOOLS: readonly ToolDefinition[] = [
  tool('11', 'core_memory_append', 'Append text to the end of one of your memory blocks, on a new line.', { label, content: text('Text to add to the block.') }, [
    'label',
    'content',
  ]),
  tool(
    '12',
    'core_memory_replace',
    'Replace every occurrence of a text in one of your memory blocks. An empty new_content deletes it.',
    { label, old_content: text('The exact text to replace.'), new_content: text('The text to put in its place.') },
    ['label', 'old_content', 'new_content'],
  ),
  tool(
    '13',
    'memory_rethink',
    'Rewrite a whole memory block. Meant for large reorganisations; for adding or changing a line use memory_insert or memory_replace.',
    { label, new_memory: text('The complete new contents of the block.') },
    ['label', 'new_memory'],
  ),
  tool('14', 'memory_finish_edits', 'Call when you have finished editing your memory blocks.', {}, []),
  tool(
    '15',
    'memory',
    "Edit a memory block addressed by path ('/memories/<label>' or '<label>'). Commands on this server: str_replace (old_string, new_string) and insert (insert_text, insert_line). create, delete and rename are refused: blocks are managed through the API here.",
    {
      command: { type: 'string', enum: ['str_replace', 'insert', 'create', 'delete', 'rename'], description: 'What to do.' },
      path: text("The block, e.g. '/memories/human'."),
      old_string: text('str_replace: the exact text to replace; it must appear once.'),
      new_string: text('str_replace: the replacement text.'),
      insert_text: text('insert: the text to insert.'),
      insert_line: { type: 'integer', description: 'insert: line after which to insert (0 = at the start, -1 = at the end). Default -1.' },
      file_text: text('create: not supported on this server.'),
      description: text('create, rename: not supported on this server.'),
      old_path: text('rename: not supported on this server.'),
      new_path: text('rename: not supported on this server.'),
    },
    ['command'],
  ),
  tool(
    '16',
    'memory_apply_patch',
    "Edit one memory block with a simplified unified diff: lines starting with ' ' (context), '-' (remove) or '+' (add), hunks separated by '@@'. Context must match whole lines exactly once; a hunk of only '+' lines appends. No line numbers.",
    { label, patch: text("The diff. '*** Update Block: <label>' may name the block instead of label.") },
    ['label', 'patch'],
  ),
  tool('17', 'send_message', 'Send a message to the user. It is your answer: the turn ends with it.', { message: text('The message. All unicode (including emojis) is supported.') }, [
    'message',
  ]),
];
