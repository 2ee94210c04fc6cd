import type { BlockEditOperation } from '@lrs/contracts';

/**
 * Letta's older and file-style memory tools (`core_memory_replace`, `memory_apply_patch`, the
 * `memory` tool's paths) expressed as this server's edit operations, so that they follow the same
 * consistency model as `memory_insert` and `memory_replace` (docs/memory.md): a tool decides its
 * change against the block as the step sees it and records an insert, replace or rethink, which is
 * applied again to the block as it is when the step commits.
 */

export type Planned = { ok: true; operation: BlockEditOperation | null } | { ok: false; error: string };

/**
 * The smallest operation that turns `before` into `after`: an insert when lines were only added, or
 * else a replace of the changed lines, widened by neighbouring lines until the text it replaces
 * appears exactly once in `before` (the whole value at most). `null` when nothing changes.
 *
 * Re-applied at commit, the replace needs that stretch of the block to be unchanged; the rest of
 * the block may have been changed by other writers meanwhile.
 */
export function spanEdit(before: string, after: string): BlockEditOperation | null {
  if (before === after) return null;
  const old = linesOf(before);
  const next = linesOf(after);
  let prefix = 0;
  while (prefix < old.length && prefix < next.length && old[prefix] === next[prefix]) prefix++;
  let suffix = 0;
  while (suffix < old.length - prefix && suffix < next.length - prefix && old[old.length - 1 - suffix] === next[next.length - 1 - suffix]) suffix++;
  const oldEnd = old.length - suffix;
  const nextEnd = next.length - suffix;
  if (oldEnd === prefix) {
    const inserted: BlockEditOperation = { kind: 'insert', newStr: next.slice(prefix, nextEnd).join('\n'), insertLine: prefix === old.length ? -1 : prefix };
    if (resultOf(before, inserted) === after) return inserted;
  } else {
    for (let from = prefix, to = oldEnd; ; from > 0 ? from-- : to++) {
      const operation = stretchReplace(old, next, from, to, to - oldEnd + nextEnd);
      if (occurrences(before, operation.oldStr) === 1 && resultOf(before, operation) === after) return operation;
      if (from === 0 && to === old.length) break;
    }
  }
  // Never reached for real text; kept so a mistake here can only make an edit stricter, not wrong.
  return before === '' ? { kind: 'insert', newStr: after, insertLine: -1 } : { kind: 'replace', oldStr: before, newStr: after };
}

/** Lines `from..to` of `old` replaced by lines `from..nextTo` of `next`, with the line breaks around them so only whole lines match. */
function stretchReplace(old: string[], next: string[], from: number, to: number, nextTo: number): { kind: 'replace'; oldStr: string; newStr: string } {
  const before = from > 0 ? '\n' : '';
  const after = to < old.length ? '\n' : '';
  const replacement = next.slice(from, nextTo);
  return {
    kind: 'replace',
    oldStr: before + old.slice(from, to).join('\n') + after,
    newStr: replacement.length > 0 ? before + replacement.join('\n') + after : before && after,
  };
}

function linesOf(value: string): string[] {
  return value === '' ? [] : value.split('\n');
}

function occurrences(value: string, text: string): number {
  return text === '' ? 0 : value.split(text).length - 1;
}

/** What the operation makes of `value` (the same rules as `applyBlockEdit`, without limits). */
function resultOf(value: string, operation: BlockEditOperation): string {
  switch (operation.kind) {
    case 'insert': {
      const lines = linesOf(value);
      const at = operation.insertLine === -1 ? lines.length : Math.min(operation.insertLine, lines.length);
      return [...lines.slice(0, at), ...operation.newStr.split('\n'), ...lines.slice(at)].join('\n');
    }
    case 'replace':
      return value.replace(operation.oldStr, () => operation.newStr);
    case 'rethink':
      return operation.newValue;
  }
}

/**
 * Letta's `core_memory_replace`: every occurrence of `oldContent` replaced (where `memory_replace`
 * needs exactly one). One occurrence is a plain replace; several are one replace of the stretch of
 * lines from the first to the last, so the call stays a single operation that applies whole or not at all.
 */
export function coreMemoryReplace(value: string, label: string, oldContent: string, newContent: string): Planned {
  if (oldContent === '') return { ok: false, error: 'Error: old_content must not be empty.' };
  const count = occurrences(value, oldContent);
  if (count === 0) return { ok: false, error: `Error: old_content '${oldContent}' was not found in memory block '${label}'; nothing was replaced.` };
  if (oldContent === newContent) return { ok: true, operation: null };
  if (count === 1) return { ok: true, operation: { kind: 'replace', oldStr: oldContent, newStr: newContent } };
  return { ok: true, operation: spanEdit(value, value.split(oldContent).join(newContent)) };
}

/**
 * A block label from a path of Letta's `memory` tool: `/memories/notes`, `/notes` and `notes` all
 * name the block `notes`; `/memories/system/faq` names `system/faq`.
 */
export function labelOfPath(path: string): string {
  return path.trim().replace(/^\/memories\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

const PATCH_HEADER = /^\*\*\* (Add Block|Delete Block|Update Block|Move to):\s*(.*)$/;

/**
 * A patch of `memory_apply_patch`, for one block: hunks of an existing block (from an `*** Update
 * Block:` header, if any, and renamed when a `*** Move to:` follows), a new block (`*** Add Block:`,
 * its value the `+` lines) or a block to delete (`*** Delete Block:`).
 */
export type ParsedPatch =
  | { ok: true; kind: 'update'; label: string | null; lines: string[]; moveTo?: string }
  | { ok: true; kind: 'add'; label: string; value: string }
  | { ok: true; kind: 'delete'; label: string }
  | { ok: false; error: string };

const PATCH_KINDS = { 'Add Block': 'add', 'Delete Block': 'delete', 'Update Block': 'update' } as const;

/**
 * Reads a patch in Letta's simplified unified-diff format. A patch changes one block: several
 * blocks in one call are refused (their changes could not commit as one); send one call per block.
 */
export function parsePatch(patch: string): ParsedPatch {
  const lines: string[] = [];
  let label: string | null = null;
  let kind: 'add' | 'delete' | 'update' = 'update';
  let moveTo: string | undefined;
  for (const line of patch.split('\n')) {
    const header = PATCH_HEADER.exec(line);
    if (header) {
      const [, name, target] = header;
      if (name === 'Move to') {
        if (label === null || kind !== 'update' || moveTo !== undefined) return { ok: false, error: "Error: '*** Move to' must follow one '*** Update Block: <label>' line." };
        moveTo = target.trim();
        continue;
      }
      const next = PATCH_KINDS[name as keyof typeof PATCH_KINDS];
      if (label !== null && (label !== target.trim() || kind !== next)) return { ok: false, error: 'Error: a patch may change only one block on this server; send one memory_apply_patch call per block.' };
      label = target.trim();
      kind = next;
      continue;
    }
    if (line.startsWith('*** ') || line.startsWith('---') || line.startsWith('+++')) continue;
    lines.push(line);
  }
  if (kind === 'add') {
    const content = lines.filter((line, index) => line !== '' || index < lines.length - 1);
    if (content.some((line) => !line.startsWith('+'))) return { ok: false, error: "Error: every line of an '*** Add Block' must start with '+'." };
    return { ok: true, kind, label: label!, value: content.map((line) => line.slice(1)).join('\n') };
  }
  if (kind === 'delete') {
    if (lines.some((line) => line.trim() !== '')) return { ok: false, error: "Error: '*** Delete Block' takes no lines." };
    return { ok: true, kind, label: label! };
  }
  return { ok: true, kind, label, lines, ...(moveTo !== undefined ? { moveTo } : {}) };
}

/**
 * Applies a patch's hunks, one after another, to a block's value: each hunk's context and removed
 * lines must appear exactly once, as whole lines; a hunk with only added lines appends them.
 */
export function applyPatchLines(value: string, patchLines: readonly string[]): { ok: true; value: string } | { ok: false; error: string } {
  const hunks: string[][] = [[]];
  for (const line of patchLines) {
    if (line.startsWith('@@')) hunks.push([]);
    else if (line.startsWith(' ') || line.startsWith('-') || line.startsWith('+')) hunks[hunks.length - 1].push(line);
    else if (line.trim() === '') hunks[hunks.length - 1].push(' ');
  }
  const applicable = hunks.filter((hunk) => hunk.length > 0);
  if (applicable.length === 0) return { ok: false, error: "Error: the patch has no hunks; its lines must start with ' ', '-' or '+'." };
  let lines = linesOf(value);
  for (const hunk of applicable) {
    const expected = hunk.filter((line) => !line.startsWith('+')).map((line) => line.slice(1));
    const replacement = hunk.filter((line) => !line.startsWith('-')).map((line) => line.slice(1));
    if (expected.length === 0) {
      lines = [...lines, ...replacement];
      continue;
    }
    const matches = [];
    for (let at = 0; at + expected.length <= lines.length; at++) if (expected.every((line, offset) => lines[at + offset] === line)) matches.push(at);
    if (matches.length === 0) return { ok: false, error: `Error: the patch's context was not found in the block; nothing was changed. Expected lines starting with:\n${expected.slice(0, 4).join('\n')}` };
    if (matches.length > 1) return { ok: false, error: "Error: the patch's context appears more than once in the block; nothing was changed. Add surrounding lines to make it unique." };
    lines = [...lines.slice(0, matches[0]), ...replacement, ...lines.slice(matches[0] + expected.length)];
  }
  return { ok: true, value: lines.join('\n') };
}
