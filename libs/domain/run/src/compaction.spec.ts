import type { LettaMessage } from '@lrs/contracts';
import { clipSummary, transcriptLines, planCompaction, summaryMessageText } from './compaction';

const common = { date: 'd', name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: 'run-1' };
const user = (id: string, content: string) => ({ id, body: { ...common, id, message_type: 'user_message', content } as LettaMessage });
const assistant = (id: string, content: string) => ({ id, body: { ...common, id, message_type: 'assistant_message', content } as LettaMessage });
const call = (id: string) => ({
  id,
  body: { ...common, id, message_type: 'tool_call_message', tool_call: { name: 'lookup', arguments: '{"q":1}', tool_call_id: 'c1' }, tool_calls: [{ name: 'lookup', arguments: '{"q":1}', tool_call_id: 'c1' }] } as LettaMessage,
});
const result = (id: string) => ({
  id,
  body: { ...common, id, message_type: 'tool_return_message', tool_return: 'found', status: 'success', tool_call_id: 'c1', stdout: null, stderr: null, tool_returns: [{ type: 'tool', tool_call_id: 'c1', tool_return: 'found', status: 'success', stdout: null, stderr: null }] } as unknown as LettaMessage,
});

const ids = (messages: { id: string }[]) => messages.map((m) => m.id);

describe('planCompaction', () => {
  const context = [user('u1', 'a'), assistant('a1', 'b'), user('u2', 'c'), call('t1'), result('r1'), assistant('a2', 'd'), user('u3', 'e'), assistant('a3', 'f'), user('u4', 'g'), assistant('a4', 'h')];

  it('summarises everything in the all modes', () => {
    for (const mode of ['all', 'self_compact_all'] as const) expect(planCompaction(context, mode)).toEqual({ summarize: context, keep: [] });
  });

  it('keeps the newest share of messages from a user message on', () => {
    const plan = planCompaction(context, 'sliding_window', 0.3);
    expect(ids(plan.keep)).toEqual(['u4', 'a4']);
    expect(ids(plan.summarize)).toEqual(ids(context.slice(0, 8)));
  });

  it('never keeps a tool result without the call it answers', () => {
    const plan = planCompaction(context, 'self_compact_sliding_window', 0.65);
    expect(ids(plan.keep)[0]).toBe('u3');
    expect(ids(plan.keep)).not.toContain('r1');
  });

  it('keeps nothing to summarise when the whole context is kept', () => {
    expect(planCompaction(context, 'sliding_window', 1).summarize).toEqual([]);
  });
});

describe('compaction text', () => {
  it('writes a transcript with tool calls and results', () => {
    expect(transcriptLines([user('u', 'hi'), call('t'), result('r'), assistant('a', 'done')].map((m) => m.body)).join('\n')).toBe(
      ['user: hi', 'assistant called lookup({"q":1})', 'tool result (success): found', 'assistant: done'].join('\n'),
    );
  });

  it("packs the summary as Letta's system alert, worded by mode", () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    const packed = JSON.parse(summaryMessageText('They met.', 'all', now)) as { type: string; message: string; time: string };
    expect(packed).toEqual({ type: 'system_alert', time: now.toISOString(), message: expect.stringMatching(/^Note: prior messages have been hidden[\s\S]*\n They met\.$/) });
    expect(JSON.parse(summaryMessageText('x', 'sliding_window', now)).message).toContain('from the beginning of the conversation');
  });

  it('clips a long summary and says so', () => {
    expect(clipSummary('  abcdef  ', 3)).toBe('abc... [summary truncated to fit]');
    expect(clipSummary(' abc ', null)).toBe('abc');
    expect(clipSummary('short')).toBe('short');
  });
});
