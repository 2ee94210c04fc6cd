import type { BlockEditOperation, LettaMessage, ToolReturnMessage } from '@lrs/contracts';

/**
 * The memory tools' edits as pure functions over a block: each returns the block's new value, or
 * an error message the model reads on its next step (never an exception that crashes a run).
 *
 * An edit is an operation (insert, replace, rethink), not a value: a step decides it against the
 * block as the step read it, and it is applied again, by `applyBlockEdit`, to the block as it is
 * when the step commits. Two writers of one block therefore both keep their changes.
 */
export interface EditableBlock {
  label: string;
  value: string;
  limit: number;
  readOnly: boolean;
}

export type EditResult = { ok: true; value: string; message: string } | { ok: false; error: string };

export interface ApplyOptions {
  /**
   * The edit was decided against an earlier value of the block and is applied again to the value
   * it has now. An insert then lands at the same line number, or at the end when the block has
   * fewer lines now; a replace still needs its text exactly once; a rethink still sets the value.
   */
  reapplying?: boolean;
  /** Replaying edits already committed (a revert): a block made read-only since does not refuse them. */
  ignoreReadOnly?: boolean;
}

/** Applies one edit to a block: the new value, or the error the tool call answers with. */
export function applyBlockEdit(block: EditableBlock | undefined, label: string, operation: BlockEditOperation, options: ApplyOptions = {}): EditResult {
  if (!block) return { ok: false, error: `Error: there is no memory block labelled '${label}'.` };
  if (block.readOnly && !options.ignoreReadOnly) return { ok: false, error: `Error: memory block '${label}' is read-only.` };
  switch (operation.kind) {
    case 'insert':
      return insertInto(block, label, operation.newStr, operation.insertLine, options.reapplying === true);
    case 'replace':
      return replaceIn(block, label, operation.oldStr, operation.newStr, options.reapplying === true);
    case 'rethink':
      return checked(block, operation.newValue, `Rewrote memory block '${label}'.`);
  }
}

function insertInto(block: EditableBlock, label: string, newStr: string, insertLine: number, reapplying: boolean): EditResult {
  const lines = block.value === '' ? [] : block.value.split('\n');
  if (!Number.isInteger(insertLine) || insertLine < -1 || (insertLine > lines.length && !reapplying)) {
    return { ok: false, error: `Error: insert_line ${insertLine} is outside the block '${label}' (valid: -1 to ${lines.length}).` };
  }
  const at = insertLine === -1 ? lines.length : Math.min(insertLine, lines.length);
  const value = [...lines.slice(0, at), ...newStr.split('\n'), ...lines.slice(at)].join('\n');
  return checked(block, value, `Inserted text into memory block '${label}'.`);
}

function replaceIn(block: EditableBlock, label: string, oldStr: string, newStr: string, reapplying: boolean): EditResult {
  if (oldStr === '') return { ok: false, error: 'Error: old_str must not be empty.' };
  const occurrences = block.value.split(oldStr).length - 1;
  const changed = reapplying ? ` (another writer changed the block meanwhile)` : '';
  if (occurrences === 0) return { ok: false, error: `Error: old_str did not appear verbatim in memory block '${label}'${changed}; nothing was replaced.` };
  if (occurrences > 1) {
    return { ok: false, error: `Error: old_str appears ${occurrences} times in memory block '${label}'${changed}; include more context so it is unique.` };
  }
  return checked(block, block.value.replace(oldStr, () => newStr), `Edited memory block '${label}'.`);
}

function checked(block: EditableBlock, value: string, message: string): EditResult {
  if (value.length > block.limit) {
    return { ok: false, error: `Error: the edit would make memory block '${block.label}' ${value.length} characters long, over its limit of ${block.limit}.` };
  }
  return { ok: true, value, message };
}

/** One committed edit of a block, in commit order, for `replayBlockEdits`. */
export interface CommittedEdit<K> {
  key: K;
  operation: BlockEditOperation;
}

export interface ReplayStep<K> {
  key: K;
  /** The block's value before this edit, in the replayed history. */
  before: string;
  /** Its value after, or null when the edit no longer applies and is dropped. */
  after: string | null;
  error: string | null;
}

/**
 * A block's history again from `base` with some edits left out (a step whose outcome never
 * reached the run's log is taken back): every other edit is applied again in its commit order. An
 * edit that no longer applies (a replace of text only a removed edit wrote) is dropped with it.
 */
export function replayBlockEdits<K>(block: EditableBlock, base: string, edits: readonly CommittedEdit<K>[], removed: ReadonlySet<K>): { value: string; steps: ReplayStep<K>[] } {
  let value = base;
  const steps: ReplayStep<K>[] = [];
  for (const edit of edits) {
    if (removed.has(edit.key)) {
      steps.push({ key: edit.key, before: value, after: null, error: null });
      continue;
    }
    const result = applyBlockEdit({ ...block, value }, block.label, edit.operation, { reapplying: true, ignoreReadOnly: true });
    steps.push({ key: edit.key, before: value, after: result.ok ? result.value : null, error: result.ok ? null : result.error });
    if (result.ok) value = result.value;
  }
  return { value, steps };
}

/**
 * The step's messages once some of its memory edits were refused at commit (the block changed
 * under them): the tool calls that made them now answer with the error, as their return and status.
 */
export function withRefusedEdits(messages: readonly LettaMessage[], refusals: ReadonlyMap<string, string>): LettaMessage[] {
  if (refusals.size === 0) return [...messages];
  return messages.map((message) => {
    if (message.message_type !== 'tool_return_message') return message;
    const toolReturn = message as ToolReturnMessage;
    const error = refusals.get(toolReturn.tool_call_id);
    if (error === undefined) return message;
    return {
      ...toolReturn,
      tool_return: error,
      status: 'error',
      tool_returns: toolReturn.tool_returns?.map((entry) => (entry.tool_call_id === toolReturn.tool_call_id ? { ...entry, tool_return: error, status: 'error' as const } : entry)),
    };
  });
}
