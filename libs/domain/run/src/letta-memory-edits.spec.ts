import type { BlockEditOperation } from '@lrs/contracts';
import { applyPatchLines, coreMemoryReplace, labelOfPath, parsePatch, spanEdit } from './letta-memory-edits';
import { applyBlockEdit, type EditableBlock } from './memory-edits';

const block = (value: string): EditableBlock => ({ label: 'notes', value, limit: 10_000, readOnly: false });
const apply = (value: string, operation: BlockEditOperation | null, reapplying = false): string => {
  if (operation === null) return value;
  const result = applyBlockEdit(block(value), 'notes', operation, { reapplying });
  if (!result.ok) throw new Error(result.error);
  return result.value;
};

describe('spanEdit', () => {
  const cases: [string, string][] = [
    ['a\nb\nc', 'a\nB\nc'],
    ['a\nb\nc', 'a\nc'],
    ['a\nb\nc', 'b\nc'],
    ['a\nb\nc', 'a\nb'],
    ['a\nc', 'a\nb\nc'],
    ['a', 'a\nb'],
    ['', 'x'],
    ['x', ''],
    ['a', 'a\n'],
    ['b\nx\nb\nx', 'b\nx\nb\ny'],
    ['dup\ndup\ndup', 'dup\nnew\ndup'],
    ['ab\nb\nab', 'ab\nc\nab'],
  ];
  it.each(cases)('turns %j into %j with one operation', (before, after) => {
    expect(apply(before, spanEdit(before, after))).toBe(after);
  });

  it('is an insert when lines are only added, at the end as -1', () => {
    expect(spanEdit('a\nc', 'a\nb\nc')).toEqual({ kind: 'insert', newStr: 'b', insertLine: 1 });
    expect(spanEdit('a', 'a\nb')).toEqual({ kind: 'insert', newStr: 'b', insertLine: -1 });
  });

  it('replaces only the changed lines, widened until they are unique', () => {
    expect(spanEdit('a\nb\nc', 'a\nB\nc')).toEqual({ kind: 'replace', oldStr: '\nb\n', newStr: '\nB\n' });
    // The last 'x' line is not unique alone ('\nx' is also the second line): one more line of context.
    expect(spanEdit('b\nx\nb\nx', 'b\nx\nb\ny')).toEqual({ kind: 'replace', oldStr: '\nb\nx', newStr: '\nb\ny' });
    expect(spanEdit('same', 'same')).toBeNull();
  });

  it('applies again over edits elsewhere in the block, and refuses when its lines changed', () => {
    const operation = spanEdit('a\nb\nc', 'a\nB\nc');
    expect(apply('top\na\nb\nc\nbottom', operation, true)).toBe('top\na\nB\nc\nbottom');
    expect(applyBlockEdit(block('a\nb2\nc'), 'notes', operation!, { reapplying: true }).ok).toBe(false);
  });
});

describe('coreMemoryReplace', () => {
  it('is a plain replace for one occurrence', () => {
    expect(coreMemoryReplace('likes tea', 'human', 'tea', 'coffee')).toEqual({ ok: true, operation: { kind: 'replace', oldStr: 'tea', newStr: 'coffee' } });
  });

  it('replaces every occurrence as one operation (Letta), where memory_replace needs exactly one', () => {
    const value = 'tea at 9\nbiscuits\ntea at 4';
    const planned = coreMemoryReplace(value, 'human', 'tea', 'coffee');
    expect(planned.ok && planned.operation?.kind).toBe('replace');
    expect(apply(value, planned.ok ? planned.operation : null)).toBe('coffee at 9\nbiscuits\ncoffee at 4');
    const twiceInALine = coreMemoryReplace('a-a', 'human', 'a', '');
    expect(apply('a-a', twiceInALine.ok ? twiceInALine.operation : null)).toBe('-');
  });

  it('refuses text that is missing or empty', () => {
    expect(coreMemoryReplace('likes tea', 'human', 'milk', 'x')).toEqual({ ok: false, error: expect.stringContaining("'milk' was not found in memory block 'human'") });
    expect(coreMemoryReplace('likes tea', 'human', '', 'x')).toEqual({ ok: false, error: 'Error: old_content must not be empty.' });
  });
});

describe('labelOfPath', () => {
  it.each([
    ['/memories/notes', 'notes'],
    ['/memories/system/faq', 'system/faq'],
    ['/notes', 'notes'],
    ['notes', 'notes'],
    [' system/faq/ ', 'system/faq'],
  ])('%j names %j', (path, label) => expect(labelOfPath(path)).toBe(label));
});

describe('memory_apply_patch', () => {
  const patched = (value: string, patch: string) => {
    const parsed = parsePatch(patch);
    if (!parsed.ok) return parsed;
    return parsed.kind === 'update' ? applyPatchLines(value, parsed.lines) : { ok: false, error: parsed.kind };
  };

  it('applies hunks in order, context and removals matching whole lines once', () => {
    expect(patched('a\nb\nc\nd', '@@\n a\n-b\n+B\n@@\n c\n-d')).toEqual({ ok: true, value: 'a\nB\nc' });
    expect(patched('a', '+b\n+c')).toEqual({ ok: true, value: 'a\nb\nc' });
    expect(patched('', '+first')).toEqual({ ok: true, value: 'first' });
  });

  it('refuses context that is missing or repeated, and a patch without hunks', () => {
    expect(patched('a\nb', ' x\n-b')).toEqual({ ok: false, error: expect.stringContaining('not found') });
    expect(patched('b\nb', '-b')).toEqual({ ok: false, error: expect.stringContaining('more than once') });
    // 'b' is inside 'ab' but not a whole line there: one match.
    expect(patched('ab\nb', '-b\n+c')).toEqual({ ok: true, value: 'ab\nc' });
    expect(patched('a', 'no diff here')).toEqual({ ok: false, error: expect.stringContaining('no hunks') });
  });

  it('reads one block per patch: updated (and moved), added or deleted; several blocks are refused', () => {
    expect(parsePatch('*** Update Block: system/faq\n-a\n+b')).toEqual({ ok: true, kind: 'update', label: 'system/faq', lines: ['-a', '+b'] });
    expect(parsePatch('*** Begin Patch\n*** Add Block: notes\n+first\n+second\n*** End Patch\n')).toEqual({ ok: true, kind: 'add', label: 'notes', value: 'first\nsecond' });
    expect(parsePatch('*** Add Block: x\n a')).toEqual({ ok: false, error: expect.stringContaining("must start with '+'") });
    expect(parsePatch('*** Delete Block: x')).toEqual({ ok: true, kind: 'delete', label: 'x' });
    expect(parsePatch('*** Delete Block: x\n-a')).toEqual({ ok: false, error: expect.stringContaining('takes no lines') });
    expect(parsePatch('*** Update Block: a\n*** Move to: b\n-x\n+y')).toEqual({ ok: true, kind: 'update', label: 'a', lines: ['-x', '+y'], moveTo: 'b' });
    expect(parsePatch('*** Move to: b')).toEqual({ ok: false, error: expect.stringContaining("must follow one '*** Update Block") });
    expect(parsePatch('*** Update Block: a\n-x\n*** Update Block: b\n-y')).toEqual({ ok: false, error: expect.stringContaining('only one block') });
    expect(parsePatch('*** Add Block: a\n+x\n*** Delete Block: b')).toEqual({ ok: false, error: expect.stringContaining('only one block') });
  });
});
