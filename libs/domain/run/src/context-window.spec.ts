import type { LettaMessage } from '@lrs/contracts';
import { MESSAGE_OVERHEAD_TOKENS, contextBudget, fitTranscript, keepNewest, messageTokens, textTokens } from './context-window';

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
    // 25 tokens reach back into a2 but not to a user message: nothing can be kept whole.
    expect(keepNewest(context, 25)).toEqual({ summarize: context, keep: [] });
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
