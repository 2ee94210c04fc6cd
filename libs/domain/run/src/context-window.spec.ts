import type { LettaMessage } from '@lrs/contracts';
import { MESSAGE_OVERHEAD_TOKENS, contextBudget, fitTranscript, keepNewest, messageTokens, planSlidingWindow, summaryMessageMaxTokens, textTokens } from './context-window';

const base = { id: 'message-1', date: '2026-01-01T00:00:00+00:00', name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: 'run-1' };
const user = (content: string): LettaMessage => ({ ...base, message_type: 'user_message', content });
const assistant = (content: string): LettaMessage => ({ ...base, message_type: 'assistant_message', content });

describe('messageTokens', () => {
  it('counts content with the per-message overhead, and nothing for what is never sent', () => {
    expect(messageTokens(user('hello world'))).toBe(MESSAGE_OVERHEAD_TOKENS + textTokens('hello world'));
    expect(messageTokens({ ...base, message_type: 'reasoning_message', source: 'reasoner_model', reasoning: 'long thoughts', signature: null })).toBe(0);
    const call = { name: 'lookup', arguments: '{"q":"x"}', tool_call_id: 'call_1' };
    expect(messageTokens({ ...base, message_type: 'tool_call_message', tool_call: call, tool_calls: [call, call] })).toBe(
      MESSAGE_OVERHEAD_TOKENS + 2 * (textTokens('lookup') + textTokens('{"q":"x"}') + 3),
    );
  });

  it('counts image parts at a fixed high-detail cost', () => {
    const withImage = user('') as Extract<LettaMessage, { message_type: 'user_message' }>;
    withImage.content = [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }];
    expect(messageTokens(withImage)).toBe(MESSAGE_OVERHEAD_TOKENS + textTokens('look') + 765);
  });
});

describe('contextBudget', () => {
  it('leaves max_tokens for the reply, or a quarter of a small window when none is set', () => {
    expect(contextBudget({ context_window: 3000 })).toMatchObject({ window: 3000, replyReserve: 750, promptLimit: 2250, compactAbove: 2025 });
    expect(contextBudget({ context_window: 128000 })).toMatchObject({ replyReserve: 4096, promptLimit: 123904 });
    expect(contextBudget({ context_window: 8000, max_tokens: 1000 })).toMatchObject({ replyReserve: 1000, promptLimit: 7000 });
  });

  it('never lets the reply take more than half the window, and falls back on a default window', () => {
    expect(contextBudget({ context_window: 1000, max_tokens: 5000 }).promptLimit).toBe(500);
    expect(contextBudget({ context_window: 'big' }).window).toBe(128000);
    expect(contextBudget(null).window).toBe(128000);
  });
});

describe('keepNewest', () => {
  const counted = (body: LettaMessage, tokens: number) => ({ body, tokens });

  it('keeps the newest messages within the bound, starting at a user message', () => {
    const context = [counted(user('u1'), 10), counted(assistant('a1'), 10), counted(user('u2'), 10), counted(assistant('a2'), 10), counted(assistant('a3'), 10)];
    expect(keepNewest(context, 35)).toEqual({ summarize: context.slice(0, 2), keep: context.slice(2) });
    // 25 tokens do not hold the newest exchange (u2 on): what fits of it is kept, its newest messages.
    expect(keepNewest(context, 25)).toEqual({ summarize: context.slice(0, 3), keep: context.slice(3) });
  });

  it('keeps the newest exchange whole beyond the share, and older exchanges only within the share', () => {
    const context = [counted(user('u1'), 10), counted(assistant('a1'), 10), counted(user('u2'), 10), counted(assistant('a2'), 30)];
    expect(keepNewest(context, 100, 20)).toEqual({ summarize: context.slice(0, 2), keep: context.slice(2) });
    expect(keepNewest(context, 100, 60)).toEqual({ summarize: [], keep: context });
    expect(keepNewest(context, 50, 60)).toEqual({ summarize: context.slice(0, 2), keep: context.slice(2) });
  });

  it('never keeps a tool result without the call it answers', () => {
    const toolCall = { name: 'lookup', arguments: '{}', tool_call_id: 'c1' };
    const result = { type: 'tool', tool_call_id: 'c1', tool_return: 'found', status: 'success', stdout: null, stderr: null };
    const context = [
      counted(user('u1'), 10),
      counted({ ...base, message_type: 'tool_call_message', tool_call: toolCall, tool_calls: [toolCall] }, 10),
      counted({ ...base, message_type: 'tool_return_message', tool_return: 'found', status: 'success', tool_call_id: 'c1', stdout: null, stderr: null, tool_returns: [result] } as LettaMessage, 30),
      counted(assistant('a1'), 10),
    ];
    expect(keepNewest(context, 45).keep).toEqual(context.slice(3));
    expect(keepNewest(context, 50).keep).toEqual(context.slice(1));
    expect(keepNewest(context, 5).keep).toEqual([]);
  });
});

describe('planSlidingWindow', () => {
  // A 3,000-token model: 2,250 tokens for the prompt, summaries of at most 225.
  const budget = contextBudget({ context_window: 3000 });
  const counted = (body: LettaMessage) => ({ body, tokens: messageTokens(body) });
  /** About 120 words, some 130 tokens, as in the e2e test. */
  const words = (turn: number, count = 118) => `turn-${turn} ${Array.from({ length: count }, (_, i) => ['garden', 'water', 'light', 'soil', 'seeds', 'monday'][(i + turn) % 6]).join(' ')}`;
  const thread = (turns: number, answerWords: number) =>
    Array.from({ length: turns }, (_, i) => [counted(user(words(i + 1))), counted(assistant(`Echo: ${words(i + 1, answerWords)}`))]).flat();
  const input = messageTokens(user(words(99)));
  const promptOf = (fixedTokens: number, keep: { tokens: number }[]) =>
    fixedTokens + input + summaryMessageMaxTokens(budget) + keep.reduce((sum, m) => sum + m.tokens, 0);

  it('keeps the newest exchange verbatim whenever it fits beside the system prompt, the summary and the new input', () => {
    // Long answers (some 520 tokens) to 130-token messages: one exchange is more than half the room for messages.
    const earlier = thread(5, 500);
    const plan = planSlidingWindow(earlier, budget, { fixedTokens: 1000, pendingTokens: input, ownTokens: 0 });
    expect(plan.keep).toEqual(earlier.slice(-2));
    expect(promptOf(1000, plan.keep)).toBeLessThanOrEqual(budget.promptLimit);
  });

  it('keeps older whole exchanges, newest first, within the keep share', () => {
    const earlier = thread(8, 118);
    const plan = planSlidingWindow(earlier, budget, { fixedTokens: 600, pendingTokens: input, ownTokens: 0 });
    expect(plan.keep.length).toBeGreaterThanOrEqual(4);
    expect(plan.keep[0].body.message_type).toBe('user_message');
    expect(plan.summarize).toEqual(earlier.slice(0, earlier.length - plan.keep.length));
  });

  it('plans a prompt within the limit, counting the summary as stored and headroom for estimated counts', () => {
    // The whole newest exchange no longer fits with its summary and headroom: its answer alone does.
    const earlier = thread(5, 118);
    const plan = planSlidingWindow(earlier, budget, { fixedTokens: 1550, pendingTokens: input, ownTokens: 0 });
    expect(plan.keep).toEqual(earlier.slice(-1));
    expect(promptOf(1550, plan.keep)).toBeLessThanOrEqual(budget.promptLimit - 100);
  });
});

describe('fitTranscript', () => {
  it('drops the oldest lines to fit, keeping a leading summary', () => {
    const lines = ['user: SUMMARY of everything before', ...Array.from({ length: 50 }, (_, i) => `user: line number ${i} with some words`)];
    const fitted = fitTranscript(lines, 100, true).split('\n');
    expect(fitted[0]).toBe(lines[0]);
    expect(fitted[fitted.length - 1]).toBe(lines[lines.length - 1]);
    expect(fitted.length).toBeLessThan(lines.length);
    expect(textTokens(fitted.join('\n'))).toBeLessThanOrEqual(100);
    expect(fitTranscript(lines, 100, false).split('\n')[0]).not.toBe(lines[0]);
  });
});
