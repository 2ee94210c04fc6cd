import type { BlockEditOperation, ToolCall } from '@lrs/contracts';
import {
  AGENT_CREATED_BLOCK_CHAR_LIMIT,
  MAX_AGENT_BLOCKS,
  applyBlockEdit,
  applyPatchLines,
  blockChangeMessages,
  blockLabelError,
  coreMemoryReplace,
  labelOfPath,
  parsePatch,
  spanEdit,
} from '@lrs/domain-run';
import { storableText } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';
import type { ToolContext } from './tool-context';
import { failure } from './tool-failure';

/** What `send_message` answers, as Letta's does. */
export const SENT_MESSAGE = 'Sent message successfully.';

export const LETTA_MEMORY_TOOL_NAMES: ReadonlySet<string> = new Set([
  'core_memory_append',
  'core_memory_replace',
  'memory_rethink',
  'memory_finish_edits',
  'memory',
  'memory_apply_patch',
  'send_message',
]);

/**
 * Applies an edit to the step's view of the block and records it as the operation it is, to be
 * applied again to the block as it is when the step commits (docs/memory.md).
 */
export function editBlock(call: ToolCall, context: ToolContext, label: string, operation: BlockEditOperation): ToolOutcome {
  const result = applyBlockEdit(context.block(label), label, operation);
  if (!result.ok) return failure(call, result.error);
  context.recordEdit(label, call.tool_call_id, operation, result.value);
  return { call, status: 'success', output: result.message };
}

/** Letta's `core_memory_*`, `memory_rethink`, `memory_finish_edits`, `memory`, `memory_apply_patch` and `send_message`. */
export function runLettaMemoryTool(call: ToolCall, context: ToolContext, args: Record<string, unknown>): ToolOutcome {
  const text = (name: string, fallback?: string): string | ToolOutcome => {
    const value = args[name] ?? fallback;
    return typeof value === 'string' ? storableText(value) : failure(call, `Error: ${call.name} needs a string ${name}.`);
  };
  const strings = (...names: string[]): string[] | ToolOutcome => {
    const values: string[] = [];
    for (const name of names) {
      const value = text(name);
      if (typeof value !== 'string') return value;
      values.push(value);
    }
    return values;
  };
  switch (call.name) {
    case 'core_memory_append': {
      const values = strings('label', 'content');
      if (!Array.isArray(values)) return values;
      const [label, content] = values;
      return editBlock(call, context, label, { kind: 'insert', newStr: content, insertLine: -1 });
    }
    case 'core_memory_replace': {
      const values = strings('label', 'old_content', 'new_content');
      if (!Array.isArray(values)) return values;
      const [label, oldContent, newContent] = values;
      return planned(call, context, label, (value) => coreMemoryReplace(value, label, oldContent, newContent));
    }
    case 'memory_rethink': {
      const values = strings('label', 'new_memory');
      if (!Array.isArray(values)) return values;
      const [label, newMemory] = values;
      return editBlock(call, context, label, { kind: 'rethink', newValue: newMemory });
    }
    case 'memory_finish_edits':
      return { call, status: 'success', output: 'None' };
    case 'memory':
      return memoryCommand(call, context, args, text);
    case 'memory_apply_patch':
      return applyPatch(call, context, args);
    case 'send_message': {
      const message = text('message');
      if (typeof message !== 'string') return message;
      if (message.trim() === '') return failure(call, 'Error: send_message needs a non-empty message.');
      return { call, status: 'success', output: SENT_MESSAGE, assistantMessage: message };
    }
    default:
      return failure(call, `Error: tool '${call.name}' is not available to this agent`);
  }
}

/** An edit decided from the block's current value (in the step's view). */
function planned(call: ToolCall, context: ToolContext, label: string, plan: (value: string) => ReturnType<typeof coreMemoryReplace>): ToolOutcome {
  const block = context.block(label);
  if (!block) return failure(call, `Error: there is no memory block labelled '${label}'.`);
  const decided = plan(block.value);
  if (!decided.ok) return failure(call, decided.error);
  // Nothing to change records nothing: an edit recorded anyway would be applied again at commit.
  if (decided.operation === null) return { call, status: 'success', output: `Memory block '${label}' is unchanged.` };
  return editBlock(call, context, label, decided.operation);
}

/**
 * Letta's `memory` tool. Paths name blocks by label (`/memories/` and leading slashes are dropped);
 * a path whose label is not found but whose `/`-to-`_` form is (Letta's older flattening) names that.
 */
function memoryCommand(call: ToolCall, context: ToolContext, args: Record<string, unknown>, text: (name: string, fallback?: string) => string | ToolOutcome): ToolOutcome {
  const command = args.command;
  if (command === 'create' || command === 'delete' || command === 'rename') return blockChange(call, context, command, args, text);
  if (command !== 'str_replace' && command !== 'insert') {
    return failure(call, `Error: unknown memory command '${String(command)}'. Supported commands: create, str_replace, insert, delete, rename.`);
  }
  const path = text('path');
  if (typeof path !== 'string') return path;
  const label = blockLabelOf(context, path);
  if (command === 'str_replace') {
    const oldStr = text('old_string', args.old_str as string | undefined);
    if (typeof oldStr !== 'string') return oldStr;
    const newStr = text('new_string', args.new_str as string | undefined);
    if (typeof newStr !== 'string') return newStr;
    return editBlock(call, context, label, { kind: 'replace', oldStr, newStr });
  }
  const insertText = text('insert_text');
  if (typeof insertText !== 'string') return insertText;
  const insertLine = args.insert_line === undefined || args.insert_line === null ? -1 : Number(args.insert_line);
  return editBlock(call, context, label, { kind: 'insert', newStr: insertText, insertLine });
}

/**
 * `create` (path, file_text, description), `delete` (path) and `rename` (old_path and new_path, or
 * path and description): changes the step commits before its edits, exactly once with it
 * (docs/memory.md). The step's view has them at once, so its later tool calls see the block.
 */
function blockChange(
  call: ToolCall,
  context: ToolContext,
  command: 'create' | 'delete' | 'rename',
  args: Record<string, unknown>,
  text: (name: string, fallback?: string) => string | ToolOutcome,
): ToolOutcome {
  const optional = (name: string): string | null | ToolOutcome => (args[name] === undefined || args[name] === null ? null : text(name));
  const path = (name: string): string | ToolOutcome => {
    const value = text(name);
    return typeof value === 'string' ? blockLabelOf(context, value) : value;
  };
  if (command === 'create') {
    const label = text('path');
    if (typeof label !== 'string') return label;
    const fileText = optional('file_text');
    const description = optional('description');
    if (fileText !== null && typeof fileText !== 'string') return fileText;
    if (description !== null && typeof description !== 'string') return description;
    return createBlock(call, context, labelOfPath(label), fileText ?? '', description);
  }
  if (command === 'delete') {
    const label = path('path');
    return typeof label === 'string' ? deleteBlock(call, context, label) : label;
  }
  if (args.old_path === undefined && args.new_path === undefined) {
    // Letta's rename with a path and a description changes the description.
    const label = path('path');
    if (typeof label !== 'string') return label;
    const description = text('description');
    if (typeof description !== 'string') return description;
    const refused = changeable(call, context, 'rename', label);
    if (refused) return refused;
    if (description !== context.description(label)) context.recordDescribe(call.tool_call_id, label, description);
    return { call, status: 'success', output: blockChangeMessages.described(label) };
  }
  const label = path('old_path');
  if (typeof label !== 'string') return label;
  const newPath = text('new_path');
  if (typeof newPath !== 'string') return newPath;
  return renameBlock(call, context, label, labelOfPath(newPath));
}

/** Why the block cannot be changed (not in a step, no such block, read-only), or null. */
function changeable(call: ToolCall, context: ToolContext, command: string, label: string): ToolOutcome | null {
  if (!context.blockChangesAllowed) return failure(call, `Error: the memory command '${command}' runs only in an agent's step, not through tools.run.`);
  const block = context.block(label);
  if (!block) return failure(call, `Error: there is no memory block labelled '${label}'.`);
  if (block.readOnly) return failure(call, `Error: memory block '${label}' is read-only.`);
  return null;
}

function createBlock(call: ToolCall, context: ToolContext, label: string, value: string, description: string | null): ToolOutcome {
  if (!context.blockChangesAllowed) return failure(call, "Error: the memory command 'create' runs only in an agent's step, not through tools.run.");
  const invalid = blockLabelError(label);
  if (invalid) return failure(call, invalid);
  if (context.block(label)) return failure(call, `Error: a memory block labelled '${label}' already exists; edit it with str_replace or insert, or delete it first.`);
  if (context.labels().length >= MAX_AGENT_BLOCKS) return failure(call, `Error: an agent has at most ${MAX_AGENT_BLOCKS} memory blocks; delete one first.`);
  if (value.length > AGENT_CREATED_BLOCK_CHAR_LIMIT) return failure(call, `Error: file_text has ${value.length} characters; a new block holds at most ${AGENT_CREATED_BLOCK_CHAR_LIMIT}.`);
  context.recordCreate(call.tool_call_id, { label, value, description, limit: AGENT_CREATED_BLOCK_CHAR_LIMIT });
  return { call, status: 'success', output: blockChangeMessages.created(label) };
}

function deleteBlock(call: ToolCall, context: ToolContext, label: string): ToolOutcome {
  const refused = changeable(call, context, 'delete', label);
  if (refused) return refused;
  context.recordDelete(call.tool_call_id, label);
  return { call, status: 'success', output: blockChangeMessages.deleted(label) };
}

/** Why the block cannot be renamed to `newLabel`, or null. */
function renameRefusal(call: ToolCall, context: ToolContext, label: string, newLabel: string): ToolOutcome | null {
  const refused = changeable(call, context, 'rename', label);
  if (refused) return refused;
  const invalid = blockLabelError(newLabel);
  if (invalid) return failure(call, invalid);
  if (newLabel !== label && context.block(newLabel)) return failure(call, `Error: a memory block labelled '${newLabel}' already exists.`);
  return null;
}

function renameBlock(call: ToolCall, context: ToolContext, label: string, newLabel: string): ToolOutcome {
  const refused = renameRefusal(call, context, label, newLabel);
  if (refused) return refused;
  if (newLabel === label) return { call, status: 'success', output: `Memory block '${label}' is unchanged.` };
  context.recordRename(call.tool_call_id, label, newLabel);
  return { call, status: 'success', output: blockChangeMessages.renamed(label, newLabel) };
}

function blockLabelOf(context: ToolContext, path: string): string {
  const label = labelOfPath(path);
  const flattened = label.replace(/\//g, '_');
  return context.block(label) || !context.block(flattened) ? label : flattened;
}

/**
 * Letta's `memory_apply_patch` on one block: hunks make the one insert or replace that gives the
 * patched value (then a rename, with `*** Move to`); `*** Add Block` creates a block with the `+`
 * lines, `*** Delete Block` deletes one, as the `memory` tool's commands do.
 */
function applyPatch(call: ToolCall, context: ToolContext, args: Record<string, unknown>): ToolOutcome {
  if (typeof args.patch !== 'string') return failure(call, 'Error: memory_apply_patch needs a string patch.');
  const parsed = parsePatch(storableText(args.patch));
  if (!parsed.ok) return failure(call, parsed.error);
  if (parsed.kind === 'add') return createBlock(call, context, labelOfPath(parsed.label), parsed.value, null);
  if (parsed.kind === 'delete') return deleteBlock(call, context, labelOfPath(parsed.label));
  const label = parsed.label ?? (typeof args.label === 'string' ? args.label : '');
  if (label === '') return failure(call, "Error: memory_apply_patch needs the block's label (or an '*** Update Block: <label>' line).");
  if (parsed.moveTo === undefined) return patchBlock(call, context, label, parsed.lines);
  const newLabel = labelOfPath(parsed.moveTo);
  // Both checked before either is recorded, so the call changes nothing unless it can do both.
  const refused = renameRefusal(call, context, label, newLabel);
  if (refused) return refused;
  if (parsed.lines.some((line) => line.trim() !== '')) {
    const patched = patchBlock(call, context, label, parsed.lines);
    if (patched.status === 'error') return patched;
  }
  return renameBlock(call, context, label, newLabel);
}

function patchBlock(call: ToolCall, context: ToolContext, label: string, lines: readonly string[]): ToolOutcome {
  return planned(call, context, label, (value) => {
    const patched = applyPatchLines(value, lines);
    return patched.ok ? { ok: true, operation: spanEdit(value, patched.value) } : patched;
  });
}
