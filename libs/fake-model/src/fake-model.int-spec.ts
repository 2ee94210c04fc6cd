import OpenAI, { APIUserAbortError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startFakeModelServer, type FakeModelServer, type RecordedRequest } from './index';

const MODEL = 'gpt-4o-mini';
const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

function clientFor(server: FakeModelServer): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('fake model server over HTTP', () => {
  let server: FakeModelServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await startFakeModelServer({ port: 0 });
    client = clientFor(server);
  });
  afterAll(() => server.close());
  beforeEach(() => server.reset());

  it('listens on a free port and exposes an OpenAI base URL', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
  });

  it('streams an echo that assembles to the user text and ends with a usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hello [fake:delay=1] streaming world' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Echo: hello  streaming world');
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === MODEL)).toBe(true);

    const finishChunk = chunks[chunks.length - 2];
    expect(finishChunk.choices[0].finish_reason).toBe('stop');
    const usageChunk = chunks[chunks.length - 1];
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ completion_tokens: 4, total_tokens: expect.any(Number) });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it('holds a streamed answer after its first frame and lets frames go only as the test releases them', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: '[fake:reply=alpha beta gamma][fake:hold=h1]' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.choices[0].delta).toEqual({ role: 'assistant', content: '' });
    server.release('h1', 1);
    expect((await iterator.next()).value?.choices[0].delta.content).toBe('alpha');
    const next = iterator.next();
    const seen = await Promise.race([next.then(() => 'frame'), new Promise((resolve) => setImmediate(() => resolve('held')))]);
    expect(seen).toBe('held');
    server.release('h1');
    let text = 'alpha' + ((await next).value?.choices[0]?.delta.content ?? '');
    for (let result = await iterator.next(); !result.done; result = await iterator.next()) text += result.value.choices[0]?.delta.content ?? '';
    expect(text).toBe('alpha beta gamma');
  });

  it('omits usage from stream chunks unless include_usage is set', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'no usage please' }],
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks[chunks.length - 1].choices[0].finish_reason).toBe('stop');
  });

  it('frames the raw SSE stream exactly like the real API', async () => {
    const response = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: '[fake:reply=a b]' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n');
    expect(events.pop()).toBe('');
    expect(events.pop()).toBe('data: [DONE]');
    expect(events).toHaveLength(5); // role, "a", " b", finish, usage
    expect(events.every((event) => event.startsWith('data: {'))).toBe(true);
  });

  it('returns a complete chat.completion with usage when not streaming', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Say [fake:reply=Hi there] please' }] },
      ],
    });
    expect(completion).toMatchObject({
      id: expect.stringMatching(/^chatcmpl-\d+$/),
      object: 'chat.completion',
      model: MODEL,
      system_fingerprint: 'fp_fake',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi there', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
    });
    // o200k_base: 4 + 10 content tokens, 4 per message, 3 to prime the reply
    expect(completion.usage).toEqual({
      prompt_tokens: 25,
      completion_tokens: 2,
      total_tokens: 27,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(5);
  });

  it('finishes with length when asked', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: '[fake:reply=truncated answer][fake:length]' }],
    });
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.choices[0].message.content).toBe('truncated answer');
  });

  it('runs a tool-call flow: a streamed tool call, then the final text once the result is appended', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Oslo? [fake:toolsteps=1][fake:args={"city":"Oslo"}]' },
    ];
    const toolStep = await client.chat.completions
      .stream({ model: MODEL, messages, tools: [weatherTool], stream_options: { include_usage: true } })
      .finalChatCompletion();

    const choice = toolStep.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const [toolCall] = choice.message.tool_calls ?? [];
    if (toolCall?.type !== 'function') throw new Error('expected a function tool call');
    expect(toolCall.id).toMatch(/^call_[0-9a-f]+$/);
    expect(toolCall.function).toEqual({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
    expect(toolStep.usage?.completion_tokens).toBe(5);

    messages.push(choice.message, { role: 'tool', tool_call_id: toolCall.id, content: '12°C and sunny' });
    const final = await client.chat.completions.create({ model: MODEL, messages, tools: [weatherTool] });
    expect(final.choices[0].finish_reason).toBe('stop');
    expect(final.choices[0].message.content).toBe('Done after 1 tool steps: 12°C and sunny');
    expect(final.choices[0].message.tool_calls).toBeUndefined();
  });

  it('puts parallel tool calls with distinct ids into one answer', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: '[fake:toolsteps=1][fake:tool=lookup][fake:parallel=3]' }],
      stream: true,
    });
    const idsByIndex = new Map<number, string>();
    const argumentsByIndex = new Map<number, string>();
    for await (const chunk of completion) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (call.id) idsByIndex.set(call.index, call.id);
        argumentsByIndex.set(call.index, (argumentsByIndex.get(call.index) ?? '') + (call.function?.arguments ?? ''));
      }
    }
    expect(idsByIndex.size).toBe(3);
    expect(new Set(idsByIndex.values()).size).toBe(3);
    expect([...argumentsByIndex.values()]).toEqual(['{}', '{}', '{}']);
  });

  it('fails an identical request twice with 500 and then succeeds', async () => {
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'flaky [fake:fail=2]' }] };
    for (const attempt of [1, 2]) {
      const failure = await client.chat.completions.create(request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InternalServerError);
      expect((failure as InternalServerError).status).toBe(500);
      expect((failure as InternalServerError).message).toContain(`fake failure (attempt ${attempt} of 2)`);
    }
    const success = await client.chat.completions.create(request);
    expect(success.choices[0].message.content).toBe('Echo: flaky');
  });

  it('surfaces status=429 as a RateLimitError on every attempt', async () => {
    const request = { model: MODEL, messages: [{ role: 'user' as const, content: 'slow down [fake:status=429]' }] };
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await client.chat.completions.create(request).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RateLimitError);
      expect((failure as RateLimitError).error).toMatchObject({ type: 'rate_limit_error' });
    }
  });

  it('streams reasoning before the answer in reasoning_content, in reasoning, or only encrypted', async () => {
    const deltasOf = async (content: string) => {
      const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }], stream: true });
      const deltas: Record<string, unknown>[] = [];
      for await (const chunk of stream) if (chunk.choices[0]) deltas.push(chunk.choices[0].delta as Record<string, unknown>);
      return deltas;
    };
    const deepseek = await deltasOf('q [fake:reasoning=First, think.]');
    expect(deepseek.map((d) => d.reasoning_content ?? '').join('')).toBe('First, think.');
    expect(deepseek.map((d) => d.content ?? '').join('')).toBe('Echo: q');
    const lastReasoning = deepseek.map((d) => Boolean(d.reasoning_content)).lastIndexOf(true);
    expect(deepseek.findIndex((d) => d.content)).toBeGreaterThan(lastReasoning);
    const openrouter = await deltasOf('q [fake:reasoning=Hmm.][fake:reasoningfield=reasoning]');
    expect(openrouter.map((d) => d.reasoning ?? '').join('')).toBe('Hmm.');
    const encrypted = await deltasOf('q [fake:reasoning=secret][fake:encryptedreasoning]');
    expect(JSON.stringify(encrypted)).not.toContain('secret');
    expect(encrypted[0].reasoning_details).toEqual([{ type: 'reasoning.encrypted', data: Buffer.from('secret').toString('base64'), format: 'fake-v1', index: 0 }]);
  });

  it('refuses a prompt longer than a …-ctx<N> model window with 400 context_length_exceeded, as OpenAI does', async () => {
    const long = 'word '.repeat(200);
    const failure = await client.chat.completions.create({ model: 'small-ctx100', messages: [{ role: 'user', content: long }] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BadRequestError);
    expect((failure as BadRequestError).code).toBe('context_length_exceeded');
    expect((failure as BadRequestError).message).toMatch(/maximum context length is 100 tokens\. However, your messages resulted in 20\d tokens/);
    const fits = await client.chat.completions.create({ model: 'small-ctx100', messages: [{ role: 'user', content: 'short' }] });
    expect(fits.choices[0].message.content).toBe('Echo: short');
  });

  it('stops a delayed request the client aborts and keeps serving', async () => {
    const before = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'a' }] });
    const abortController = new AbortController();
    const aborted = client.chat.completions
      .create(
        { model: MODEL, messages: [{ role: 'user', content: 'wait [fake:delay=300]' }] },
        { signal: abortController.signal },
      )
      .catch((error: unknown) => error);
    await sleep(50);
    abortController.abort();
    expect(await aborted).toBeInstanceOf(APIUserAbortError);

    // Past the delay: had the aborted request been answered it would have taken a completion id.
    await sleep(400);
    const after = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'b' }] });
    expect(after.choices[0].message.content).toBe('Echo: b');
    expect(Number(after.id.split('-')[1])).toBe(Number(before.id.split('-')[1]) + 1);
    expect(server.requests).toHaveLength(3);
  });

  it('records chat request bodies, serves them over HTTP and clears them on DELETE', async () => {
    const seen: RecordedRequest[] = [];
    server.onRequest = (recorded) => seen.push(recorded);
    try {
      await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'remember me' }] });
    } finally {
      server.onRequest = undefined;
    }
    expect(seen).toHaveLength(1);
    expect(seen[0].path).toBe('/v1/chat/completions');
    expect(seen[0].headers.authorization).toBe('Bearer test');
    expect(seen[0].receivedAtMs).toBeGreaterThan(Date.now() - 5_000);

    const recordedUrl = `http://127.0.0.1:${server.port}/__fake/requests`;
    const recorded = (await (await fetch(recordedUrl)).json()) as RecordedRequest[];
    expect(recorded).toHaveLength(1);
    expect(recorded[0].body).toEqual({ model: MODEL, messages: [{ role: 'user', content: 'remember me' }] });

    expect((await fetch(recordedUrl, { method: 'DELETE' })).status).toBe(200);
    expect(server.requests).toHaveLength(0);
    expect(await (await fetch(recordedUrl)).json()).toEqual([]);
  });

  it('lists the model and answers health checks', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual([MODEL, 'text-embedding-3-small']);
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown routes with 404 and malformed JSON with 400, in the OpenAI error shape', async () => {
    const notFound = await fetch(`${server.url}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({
      error: { message: expect.stringContaining('/v1/nope'), type: 'invalid_request_error', param: null, code: null },
    });

    const malformed = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"model":',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: null } });
    expect(server.requests).toHaveLength(0);
  });

  it('rejects a request without messages as a BadRequestError', async () => {
    const failure = await client.chat.completions
      .create({ model: MODEL, messages: [] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BadRequestError);
    expect((failure as BadRequestError).param).toBe('messages');
  });
});

describe('fake model server timing', () => {
  it('records a request before waiting out the latency', async () => {
    const server = await startFakeModelServer({ latencyMs: 150 });
    try {
      let recordedAtMs = 0;
      server.onRequest = () => (recordedAtMs = Date.now());
      const startedAtMs = Date.now();
      await clientFor(server).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
      const finishedAtMs = Date.now();
      expect(finishedAtMs - startedAtMs).toBeGreaterThanOrEqual(145);
      expect(finishedAtMs - recordedAtMs).toBeGreaterThanOrEqual(145);
    } finally {
      await server.close();
    }
  });

  it('reports each fully written response once, with the recorded request, and not aborted ones', async () => {
    const server = await startFakeModelServer({ tokenDelayMs: 30 });
    server.recordRequests = false;
    const client = clientFor(server);
    const seen: RecordedRequest[] = [];
    const completions: { request: RecordedRequest; completedAtMs: number }[] = [];
    server.onRequest = (recorded) => seen.push(recorded);
    server.onResponseComplete = (request, completedAtMs) => completions.push({ request, completedAtMs });
    try {
      // One role frame and four token frames: four waits of 30 ms before the response ends.
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: '[fake:reply=a b c d]' }],
        stream: true,
      });
      for await (const _chunk of stream) {
        // drain
      }
      const failure = await client.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: '[fake:status=429]' }] })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RateLimitError);

      const aborted = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: '[fake:reply=one two three four five six]' }],
        stream: true,
      });
      for await (const _chunk of aborted) break; // breaking aborts the HTTP request mid-stream
      await sleep(300);

      expect(seen).toHaveLength(3);
      expect(completions).toHaveLength(2);
      expect(completions[0].request).toBe(seen[0]);
      expect(completions[1].request).toBe(seen[1]);
      expect(completions[0].completedAtMs - seen[0].receivedAtMs).toBeGreaterThanOrEqual(110);
      expect(completions[1].completedAtMs).toBeGreaterThanOrEqual(seen[1].receivedAtMs);
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('paces streamed chunks by tokenDelayMs and survives a client that stops reading', async () => {
    const server = await startFakeModelServer({ tokenDelayMs: 40 });
    const client = clientFor(server);
    try {
      const requestedAtMs = Date.now();
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: '[fake:reply=one two three four five six seven eight]' }],
        stream: true,
      });
      const arrivalsMs: number[] = [];
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) arrivalsMs.push(Date.now());
        if (arrivalsMs.length === 3) break; // breaking aborts the HTTP request mid-stream
      }
      // A lower bound that holds however late the client reads: the server cannot send the third
      // word before two pauses have passed since the request (gaps between arrivals can shrink
      // when a busy client reads buffered chunks together).
      expect(arrivalsMs[2] - requestedAtMs).toBeGreaterThanOrEqual(78);

      const next = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'still up' }] });
      expect(next.choices[0].message.content).toBe('Echo: still up');
    } finally {
      await server.close();
    }
  });
});
