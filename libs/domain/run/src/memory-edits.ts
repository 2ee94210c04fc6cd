/**
 * The memory tools' edits as pure functions over a block: each returns the block's new value, or
 * an error message the model reads on its next step (never an exception that crashes a run).
 */
export interface EditableBlock {
  label: string;
  value: string;
  limit: number;
  readOnly: boolean;
}

export type EditResult = { ok: true; value: string; message: string } | { ok: false; error: string };

export function memoryInsert(block: EditableBlock | undefined, label: string, newStr: string, insertLine = -1): EditResult {
  const problem = editProblem(block, label);
  if (problem) return problem;
  const lines = block!.value === '' ? [] : block!.value.split('\n');
  if (!Number.isInteger(insertLine) || insertLine < -1 || insertLine > lines.length) {
    return { ok: false, error: `Error: insert_line ${insertLine} is outside the block '${label}' (valid: -1 to ${lines.length}).` };
  }
  const at = insertLine === -1 ? lines.length : insertLine;
  const value = [...lines.slice(0, at), ...newStr.split('\n'), ...lines.slice(at)].join('\n');
  return checked(block!, value, `Inserted text into memory block '${label}'.`);
}

export function memoryReplace(block: EditableBlock | undefined, label: string, oldStr: string, newStr: string): EditResult {
  const problem = editProblem(block, label);
  if (problem) return problem;
  if (oldStr === '') return { ok: false, error: 'Error: old_str must not be empty.' };
  const occurrences = block!.value.split(oldStr).length - 1;
  if (occurrences === 0) return { ok: false, error: `Error: old_str did not appear verbatim in memory block '${label}'; nothing was replaced.` };
  if (occurrences > 1) {
    return { ok: false, error: `Error: old_str appears ${occurrences} times in memory block '${label}'; include more context so it is unique.` };
  }
  return checked(block!, block!.value.replace(oldStr, () => newStr), `Edited memory block '${label}'.`);
}

function editProblem(block: EditableBlock | undefined, label: string): EditResult | null {
  if (!block) return { ok: false, error: `Error: there is no memory block labelled '${label}'.` };
  if (block.readOnly) return { ok: false, error: `Error: memory block '${label}' is read-only.` };
  return null;
}

function checked(block: EditableBlock, value: string, message: string): EditResult {
  if (value.length > block.limit) {
    return { ok: false, error: `Error: the edit would make memory block '${block.label}' ${value.length} characters long, over its limit of ${block.limit}.` };
  }
  return { ok: true, value, message };
}
