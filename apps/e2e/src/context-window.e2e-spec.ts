import { readChatCompletionRequest, type RecordedRequest } from '@lrs/fake-model';
import { TestStack } from '@lrs/testing';
import { createAgent, getJson, pollRun, postJson, sendAsync } from './helpers';

const VOCABULARY = 'the team met on monday to plan the garden and talked about water light soil seeds tools weather budget and who would bring lunch'.split(' ');

/** About 120 ordinary words, different per turn: some 130 tokens, so every exchange adds about 280 to the thread. */
function longTurn(turn: number): string {
  const words = Array.from({ length: 118 }, (_, i) => VOCABULARY[(i * 7 + turn) % VOCABULARY.length]);
  return `turn-${turn} ${words.join(' ')} end-${turn}`;
}

interface LettaResponse {
  messages: { message_type: string; content?: string; summary?: string; compaction_stats?: Record<string, number | string>; event_type?: string }[];
  stop_reason: { stop_reason: string };
}

/** The fake model's own count of a recorded request's prompt, as it enforces its window with. */
function promptTokensOf(request: RecordedRequest): number {
  const read = readChatCompletionRequest(request.body);
  if (!read.ok) throw new Error(read.message);
  return read.request.promptTokens;
}

const userTexts = (request: RecordedRequest) =>
  (request.body as { messages: { role: string; content: unknown }[] }).messages.filter((m) => m.role === 'user').map((m) => String(m.content));

/**
 * A long-lived agent on a model with a small context window: the thread outgrows the window many
 * times over, and every run still completes, because each step fits its prompt into the window
 * and compacts the thread when it passes the trigger (docs/context-window.md).
 */
describe('context window', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const requestsOf = (model: string) => stack.model.requests.filter((r) => (r.body as { model?: string }).model === model);

  it('keeps a small-window agent alive over many long turns: every run completes and no prompt passes the window', async () => {
    const model = 'gpt-4o-mini-ctx3000';
    const agentId = await createAgent(stack.baseUrl, { model: `openai/${model}`, context_window_limit: 3000 });
    const compactions: LettaResponse['messages'] = [];
    const turns = 40;
    for (let turn = 1; turn <= turns; turn++) {
      const reply = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: longTurn(turn), include_compaction_messages: true });
      expect({ turn, status: reply.status }).toEqual({ turn, status: 200 });
      const body = reply.body as unknown as LettaResponse;
      expect({ turn, stop: body.stop_reason.stop_reason }).toEqual({ turn, stop: 'end_turn' });
      expect(body.messages.at(-1)).toMatchObject({ message_type: 'assistant_message', content: expect.stringContaining(`Echo: turn-${turn} `) });
      compactions.push(...body.messages.filter((m) => m.message_type === 'summary_message' || m.message_type === 'event_message'));
    }

    // The thread was compacted, more than once, each time shown as Letta shows it.
    const summaries = compactions.filter((m) => m.message_type === 'summary_message');
    expect(summaries.length).toBeGreaterThan(1);
    expect(compactions.filter((m) => m.message_type === 'event_message').length).toBe(summaries.length);
    for (const summary of summaries) {
      expect(summary.summary).toEqual(expect.any(String));
      expect(summary.compaction_stats).toMatchObject({ trigger: 'context_window_limit', context_window: 3000 });
      expect(Number(summary.compaction_stats!.context_tokens_after)).toBeLessThan(Number(summary.compaction_stats!.context_tokens_before));
    }

    // No request to the model, the summaries' included, passed its window (the fake refuses those).
    const requests = requestsOf(model);
    const promptTokens = requests.map(promptTokensOf);
    expect(Math.max(...promptTokens)).toBeLessThanOrEqual(3000);
    expect(requests.length).toBe(turns + summaries.length);

    // The newest prompt holds the previous exchange verbatim, and a summary of what came before.
    const last = requests.filter((r) => JSON.stringify(r.body).includes(`end-${turns}`)).at(-1)!;
    const users = userTexts(last);
    expect(users.at(-1)).toBe(longTurn(turns));
    expect(users).toContain(longTurn(turns - 1));
    expect(JSON.stringify(last.body)).toContain(`Echo: turn-${turns - 1} `);
    expect(users[0]).toContain('"type":"system_alert"');
    expect(users).not.toContain(longTurn(1));

    // The history keeps everything.
    const history = await getJson<{ message_type: string; content: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/messages?limit=1000&order=asc`);
    const sent = history.filter((m) => m.message_type === 'user_message' && m.content.startsWith('turn-')).map((m) => m.content);
    expect(sent).toEqual(Array.from({ length: turns }, (_, i) => longTurn(i + 1)));

    // The context overview counts what the next call would hold, within the window.
    const overview = await getJson<Record<string, number | string | null | unknown[]>>(stack.baseUrl, `/v1/agents/${agentId}/context`);
    expect(overview).toMatchObject({ context_window_size_max: 3000, num_archival_memory: 0, summary_memory: expect.stringContaining('system_alert') });
    const parts = ['num_tokens_system', 'num_tokens_core_memory', 'num_tokens_external_memory_summary', 'num_tokens_summary_memory', 'num_tokens_functions_definitions', 'num_tokens_messages'];
    expect(parts.reduce((sum, key) => sum + (overview[key] as number), 0)).toBe(overview.context_window_size_current);
    expect(overview.context_window_size_current as number).toBeLessThanOrEqual(3000);
    expect(overview.num_tokens_functions_definitions as number).toBeGreaterThan(0);
    expect(overview.num_messages).toBe((overview.messages as unknown[]).length + 2);
  });

  it('keeps the newest exchange verbatim through every compaction: each turn sees the previous message and its answer', async () => {
    // A long-winded model (answers five times as long as the ~120-word messages) and a persona
    // block: one exchange is more than half the room for messages, and still fits beside the
    // system prompt, a summary and the new message.
    const model = 'gpt-4o-mini-ctx3000';
    const persona = Array.from({ length: 190 }, (_, i) => VOCABULARY[(i * 5) % VOCABULARY.length]).join(' ');
    const agentId = await createAgent(stack.baseUrl, { model: `openai/${model}`, context_window_limit: 3000, memory_blocks: [{ label: 'persona', value: persona }] });
    const message = (turn: number) => `${longTurn(300 + turn)} [fake:echo=5]`;
    const turns = 12;
    const missing: { turn: number; user: boolean; answer: boolean; promptTokens: number }[] = [];
    let compactions = 0;
    for (let turn = 1; turn <= turns; turn++) {
      const reply = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: message(turn), include_compaction_messages: true });
      const body = reply.body as unknown as LettaResponse;
      expect({ turn, stop: body.stop_reason.stop_reason }).toEqual({ turn, stop: 'end_turn' });
      if (body.messages.some((m) => m.message_type === 'summary_message')) compactions++;
      if (turn === 1) continue;
      // The call that answered this turn, and whether it held the previous turn's message and answer.
      const prompt = requestsOf(model).filter((r) => userTexts(r).at(-1) === message(turn)).at(-1)!;
      const user = userTexts(prompt).includes(message(turn - 1));
      const answer = JSON.stringify(prompt.body).includes(`Echo: ${longTurn(300 + turn - 1)} ${longTurn(300 + turn - 1)}`);
      if (!user || !answer) missing.push({ turn, user, answer, promptTokens: promptTokensOf(prompt) });
    }
    expect(compactions).toBeGreaterThan(2);
    expect(missing).toEqual([]);
    expect(Math.max(...requestsOf(model).map(promptTokensOf))).toBeLessThanOrEqual(3000);
  });

  it('compacts harder and retries once when the provider refuses a prompt it was told would fit', async () => {
    // The agent believes in a 6000-token window; the model has 2500.
    const model = 'gpt-4o-mini-ctx2500';
    const agentId = await createAgent(stack.baseUrl, { model: `openai/${model}`, context_window_limit: 6000, include_base_tools: false });
    const summaries: LettaResponse['messages'] = [];
    for (let turn = 1; turn <= 18; turn++) {
      const reply = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: longTurn(100 + turn), include_compaction_messages: true });
      expect({ turn, status: reply.status, stop: (reply.body as unknown as LettaResponse).stop_reason?.stop_reason }).toEqual({ turn, status: 200, stop: 'end_turn' });
      summaries.push(...(reply.body as unknown as LettaResponse).messages.filter((m) => m.message_type === 'summary_message'));
    }
    // The first refusal named the real window; the worker fitted to it from then on, without more refusals.
    const refused = requestsOf(model).filter((r) => promptTokensOf(r) > 2500);
    expect(refused).toHaveLength(1);
    expect(summaries.map((m) => m.compaction_stats!.trigger)).toEqual(['context_window_exceeded', ...summaries.slice(1).map(() => 'context_window_limit')]);
    expect(summaries.length).toBeGreaterThan(1);
  });

  it('fails a run whose own input cannot fit with a clear stop reason, and the agent lives on', async () => {
    const model = 'gpt-4o-mini-ctx1200';
    const agentId = await createAgent(stack.baseUrl, { model: `openai/${model}`, context_window_limit: 1200, include_base_tools: false });
    const huge = Array.from({ length: 1500 }, (_, i) => `huge${i}`).join(' ');
    const runId = await sendAsync(stack.baseUrl, agentId, { input: huge });
    const run = await pollRun(stack.baseUrl, runId);
    expect(run).toMatchObject({ status: 'failed', stop_reason: 'context_window_overflow_in_system_prompt' });
    expect(requestsOf(model).filter((r) => JSON.stringify(r.body).includes('huge1499'))).toHaveLength(0);
    const next = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: 'still there?' });
    expect((next.body as unknown as LettaResponse).stop_reason.stop_reason).toBe('end_turn');
  });
});

/** Models that return their reasoning (DeepSeek, vLLM, OpenRouter and their kin). */
describe('reasoning', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('becomes a reasoning_message in sync answers, in the messages of an async run and in history, and stays out of later prompts', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const reply = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: 'why? [fake:reasoning=The user asks why; answer briefly.]' });
    const body = reply.body as unknown as LettaResponse & { usage: Record<string, number> };
    expect(body.messages.map((m) => m.message_type)).toEqual(['reasoning_message', 'assistant_message']);
    expect(body.messages[0]).toMatchObject({ reasoning: 'The user asks why; answer briefly.', source: 'reasoner_model', signature: null });
    expect(body.usage).toMatchObject({ reasoning_tokens: 6 });

    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'again [fake:reasoning=Second thought.][fake:reasoningfield=reasoning]' });
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed' });
    const runMessages = await getJson<{ message_type: string; reasoning?: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
    expect(runMessages.filter((m) => m.message_type === 'reasoning_message').map((m) => m.reasoning)).toEqual(['Second thought.']);
    const history = await getJson<{ message_type: string; reasoning?: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/messages?order=asc`);
    expect(history.filter((m) => m.message_type === 'reasoning_message').map((m) => m.reasoning)).toEqual(['The user asks why; answer briefly.', 'Second thought.']);

    // The second call's prompt held the first exchange but not its reasoning.
    const second = stack.model.requests.filter((r) => JSON.stringify(r.body).includes('Second thought.')).at(-1)!;
    const sentBack = (second.body as { messages: { role: string }[] }).messages.filter((m) => m.role !== 'user');
    expect(JSON.stringify(sentBack)).toContain('Echo: why?');
    expect(JSON.stringify(sentBack)).not.toContain('answer briefly');
  });

  it('streams reasoning as reasoning_message chunks with stream_tokens, before the answer', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'stream it [fake:reasoning=Thinking in many small steps here.]', stream_tokens: true, include_pings: false }),
    });
    const chunks = (await response.text())
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => JSON.parse(frame.slice(6)) as { message_type: string; id?: string; reasoning?: string; content?: string });
    const reasoning = chunks.filter((c) => c.message_type === 'reasoning_message');
    expect(reasoning.length).toBeGreaterThan(1);
    expect(new Set(reasoning.map((c) => c.id)).size).toBe(1);
    expect(reasoning.map((c) => c.reasoning).join('')).toBe('Thinking in many small steps here.');
    const firstAnswer = chunks.findIndex((c) => c.message_type === 'assistant_message');
    expect(firstAnswer).toBeGreaterThan(chunks.findIndex((c) => c.message_type === 'reasoning_message'));
    expect(chunks.filter((c) => c.message_type === 'assistant_message').map((c) => c.content).join('')).toBe('Echo: stream it');
  });

  it('keeps encrypted reasoning as a hidden_reasoning_message, and passes reasoning settings to the endpoint', async () => {
    const agentId = await createAgent(stack.baseUrl, { reasoning: true, model_settings: { reasoning: { reasoning_effort: 'high' } } });
    const reply = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: 'private [fake:reasoning=do not show][fake:encryptedreasoning]' });
    const messages = (reply.body as unknown as LettaResponse).messages;
    expect(messages.map((m) => m.message_type)).toEqual(['hidden_reasoning_message', 'assistant_message']);
    expect(messages[0]).toMatchObject({ state: 'redacted', hidden_reasoning: Buffer.from('do not show').toString('base64') });
    expect(JSON.stringify(messages)).not.toContain('do not show');
    const request = stack.model.requests.filter((r) => JSON.stringify(r.body).includes('private')).at(-1)!;
    expect(request.body).toMatchObject({ reasoning_effort: 'high', chat_template_kwargs: { enable_thinking: true } });
    expect((await postJson(stack.baseUrl, '/v1/agents/', { model_settings: { reasoning: { reasoning_effort: 'extreme' } } })).status).toBe(422);
  });
});
