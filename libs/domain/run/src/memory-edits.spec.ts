import type { BlockEditOperation, LettaMessage, ToolReturnMessage } from '@lrs/contracts';
import { applyBlockEdit, replayBlockEdits, withRefusedEdits, type EditableBlock } from './memory-edits';

const block = (value: string, extra: Partial<EditableBlock> = {}): EditableBlock => ({ label: 'team', value, limit: 200, readOnly: false, ...extra });
const insert = (newStr: string, insertLine = -1): BlockEditOperation => ({ kind: 'insert', newStr, insertLine });
const replace = (oldStr: string, newStr: string): BlockEditOperation => ({ kind: 'replace', oldStr, newStr });
const rethink = (newValue: string): BlockEditOperation => ({ kind: 'rethink', newValue });

describe('memory edits applied to the block as it is when they commit', () => {
  describe('memory_insert', () => {
    it('appends at the end by default, and a second writer\'s line is kept when the edit is applied again', () => {
      expect(applyBlockEdit(block('Team notes:'), 'team', insert('fromA'))).toMatchObject({ ok: true, value: 'Team notes:\nfromA' });
      // Decided against "Team notes:", committed after another writer appended fromB.
      expect(applyBlockEdit(block('Team notes:\nfromB'), 'team', insert('fromA'), { reapplying: true })).toMatchObject({ ok: true, value: 'Team notes:\nfromB\nfromA' });
    });

    it('inserts at a line number; applied again to a block that shrank, it lands at the end instead of failing', () => {
      expect(applyBlockEdit(block('a\nb\nc'), 'team', insert('x', 1))).toMatchObject({ value: 'a\nx\nb\nc' });
      expect(applyBlockEdit(block('a\nb\nc'), 'team', insert('x', 0))).toMatchObject({ value: 'x\na\nb\nc' });
      expect(applyBlockEdit(block('a'), 'team', insert('x', 3))).toEqual({ ok: false, error: "Error: insert_line 3 is outside the block 'team' (valid: -1 to 1)." });
      expect(applyBlockEdit(block('a'), 'team', insert('x', 3), { reapplying: true })).toMatchObject({ ok: true, value: 'a\nx' });
      expect(applyBlockEdit(block('a'), 'team', insert('x', -2), { reapplying: true })).toMatchObject({ ok: false });
      expect(applyBlockEdit(block(''), 'team', insert('first'))).toMatchObject({ value: 'first' });
    });

    it('refuses an insert past the limit, on a read-only block, or on a block the agent has not', () => {
      expect(applyBlockEdit(block('x'.repeat(199)), 'team', insert('yy'))).toEqual({
        ok: false,
        error: "Error: the edit would make memory block 'team' 202 characters long, over its limit of 200.",
      });
      expect(applyBlockEdit(block('a', { readOnly: true }), 'team', insert('b'))).toEqual({ ok: false, error: "Error: memory block 'team' is read-only." });
      expect(applyBlockEdit(block('a', { readOnly: true }), 'team', insert('b'), { ignoreReadOnly: true })).toMatchObject({ ok: true, value: 'a\nb' });
      expect(applyBlockEdit(undefined, 'nope', insert('b'))).toEqual({ ok: false, error: "Error: there is no memory block labelled 'nope'." });
    });
  });

  describe('memory_replace', () => {
    it('replaces the one occurrence wherever it moved, keeping what others added around it', () => {
      expect(applyBlockEdit(block('new line\nName: Sam'), 'team', replace('Name: Sam', 'Name: Samira'), { reapplying: true })).toMatchObject({
        ok: true,
        value: 'new line\nName: Samira',
      });
      expect(applyBlockEdit(block('cost: $1'), 'team', replace('$1', '$$2'))).toMatchObject({ value: 'cost: $$2' });
    });

    it('fails clearly when another writer removed or duplicated the text meanwhile', () => {
      expect(applyBlockEdit(block('Name: Ann'), 'team', replace('Name: Sam', 'x'), { reapplying: true })).toEqual({
        ok: false,
        error: "Error: old_str did not appear verbatim in memory block 'team' (another writer changed the block meanwhile); nothing was replaced.",
      });
      expect(applyBlockEdit(block('Sam\nSam'), 'team', replace('Sam', 'x'), { reapplying: true })).toMatchObject({ ok: false, error: expect.stringContaining('appears 2 times') });
      expect(applyBlockEdit(block('Sam'), 'team', replace('', 'x'))).toEqual({ ok: false, error: 'Error: old_str must not be empty.' });
      expect(applyBlockEdit(block('Sam'), 'team', replace('Sam', 'x'.repeat(201)))).toMatchObject({ ok: false, error: expect.stringContaining('over its limit of 200') });
    });
  });

  describe('rethink (a whole new value, as memory_rethink and the API set it)', () => {
    it('sets the value whatever it was: the last writer of a whole value wins', () => {
      expect(applyBlockEdit(block('anything'), 'team', rethink('fresh'), { reapplying: true })).toMatchObject({ ok: true, value: 'fresh' });
      expect(applyBlockEdit(block('a'), 'team', rethink('x'.repeat(201)))).toMatchObject({ ok: false });
    });
  });
});

describe('replaying a block without edits whose step never reached its log', () => {
  const history = [
    { key: 'a', operation: insert('fromA') },
    { key: 'b', operation: insert('fromB') },
    { key: 'c', operation: replace('fromB', 'fromB (done)') },
  ];

  it("takes the removed edit out and keeps every later writer's change", () => {
    const replay = replayBlockEdits(block('x'), 'Team notes:', history, new Set(['a']));
    expect(replay.value).toBe('Team notes:\nfromB (done)');
    expect(replay.steps).toEqual([
      { key: 'a', before: 'Team notes:', after: null, error: null },
      { key: 'b', before: 'Team notes:', after: 'Team notes:\nfromB', error: null },
      { key: 'c', before: 'Team notes:\nfromB', after: 'Team notes:\nfromB (done)', error: null },
    ]);
  });

  it('drops a later edit that only made sense with the removed one', () => {
    const replay = replayBlockEdits(block('x'), 'Team notes:', history, new Set(['b']));
    expect(replay.value).toBe('Team notes:\nfromA');
    expect(replay.steps.map((step) => [step.key, step.after !== null])).toEqual([['a', true], ['b', false], ['c', false]]);
    expect(replay.steps[2].error).toContain('did not appear verbatim');
  });

  it('replays edits on a block made read-only since (they were allowed when made)', () => {
    expect(replayBlockEdits(block('x', { readOnly: true }), '', history, new Set(['c'])).value).toBe('fromA\nfromB');
  });
});

describe('tool calls whose edit was refused at commit', () => {
  const toolReturn = (id: string): ToolReturnMessage =>
    ({
      id: `message-${id}`,
      message_type: 'tool_return_message',
      tool_return: 'Inserted text into memory block.',
      status: 'success',
      tool_call_id: id,
      stdout: null,
      stderr: null,
      tool_returns: [{ type: 'tool', tool_call_id: id, tool_return: 'Inserted text into memory block.', status: 'success', stdout: null, stderr: null }],
    }) as unknown as ToolReturnMessage;

  it('answer with the error, in the message and its tool_returns; other messages stay as they were', () => {
    const assistant = { id: 'message-x', message_type: 'assistant_message', content: 'hi' } as unknown as LettaMessage;
    const messages = [assistant, toolReturn('call_1'), toolReturn('call_2')];
    const out = withRefusedEdits(messages, new Map([['call_2', 'Error: old_str did not appear']]));
    expect(out[0]).toBe(assistant);
    expect(out[1]).toBe(messages[1]);
    expect(out[2]).toMatchObject({ status: 'error', tool_return: 'Error: old_str did not appear', tool_returns: [{ status: 'error', tool_return: 'Error: old_str did not appear' }] });
    expect(withRefusedEdits(messages, new Map())).toEqual(messages);
  });
});
