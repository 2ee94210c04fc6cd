import { TestStack } from '@lrs/testing';
import { createAgent, lettaClient, pollRun, postJson, sendAsync, waitUntil } from './helpers';

interface Chunk {
  message_type: string;
  seq_id?: number | null;
  run_id?: string;
  id?: string;
  otid?: string;
  content?: string;
  stop_reason?: string;
}

/** Reads an SSE response into its data payloads (un-named events), stopping at [DONE]. */
async function readSse(response: Response, onChunk?: (chunk: Chunk) => boolean | void): Promise<{ chunks: Chunk[]; done: boolean; errors: unknown[] }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const chunks: Chunk[] = [];
  const errors: unknown[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return { chunks, done: false, errors };
    buffer += decoder.decode(value, { stream: true });
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const isError = event.startsWith('event: error');
      const data = event.split('\n').find((line) => line.startsWith('data: '))?.slice(6) ?? '';
      if (data === '[DONE]') {
        await reader.cancel();
        return { chunks, done: true, errors };
      }
      if (isError) errors.push(JSON.parse(data));
      else {
        const chunk = JSON.parse(data) as Chunk;
        chunks.push(chunk);
        if (onChunk?.(chunk) === false) {
          await reader.cancel();
          return { chunks, done: false, errors };
        }
      }
    }
  }
}

describe('streaming', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { STREAM_PING_INTERVAL_MS: '200' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('streams a run with the official client: ping with run id, messages, stop_reason, usage', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const stream = await client.agents.messages.stream(agent.id, { input: 'stream please', stream_tokens: true });
    const received: Chunk[] = [];
    for await (const chunk of stream) received.push(chunk as Chunk);
    // This stack pings every 200 ms; a keep-alive ping repeats the last seq_id sent (a ping may come
    // between token deltas, which carry none, on a busy machine) and carries nothing else.
    const lastSeqBefore = (index: number) => received.slice(0, index).reverse().find((c) => c.seq_id !== null && c.seq_id !== undefined)?.seq_id;
    const keepAlives = received.map((c, index) => ({ c, index })).filter(({ c, index }) => index > 0 && c.message_type === 'ping');
    expect(keepAlives.every(({ c, index }) => c.seq_id === lastSeqBefore(index))).toBe(true);
    // With stream_tokens the assistant text arrives as deltas; the last chunk of the message has its seq_id.
    const withoutPings = received.filter((c, index) => index === 0 || c.message_type !== 'ping');
    const text = withoutPings.filter((c) => c.message_type === 'assistant_message').map((c) => c.content).join('');
    expect(text).toBe('Echo: stream please');
    const chunks = withoutPings.filter((c) => c.seq_id !== null);
    expect(chunks.map((c) => c.message_type)).toEqual(['ping', 'assistant_message', 'stop_reason', 'usage_statistics']);
    expect(chunks[0].run_id).toMatch(/^run-/);
    expect(chunks.map((c) => c.seq_id)).toEqual([1, 2, 3, 4]);
    expect(await pollRun(stack.baseUrl, chunks[0].run_id!)).toMatchObject({ status: 'completed' });

    const viaCreate = await client.agents.messages.create(agent.id, { input: 'again', streaming: true });
    const types: string[] = [];
    for await (const chunk of viaCreate as AsyncIterable<Chunk>) types.push(chunk.message_type);
    expect(types.filter((type, index) => index === 0 || type !== 'ping')).toEqual(['ping', 'assistant_message', 'stop_reason', 'usage_statistics']);
  });

  it('forwards token deltas with stream_tokens: chunks of one message share its id and add up to the stored text', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'tokens [fake:reply=one two three four five]', stream_tokens: true, include_pings: false }),
    });
    const { chunks, done } = await readSse(response);
    expect(done).toBe(true);
    const assistant = chunks.filter((c) => c.message_type === 'assistant_message') as (Chunk & { id: string; otid: string })[];
    expect(assistant.length).toBeGreaterThan(2);
    expect(new Set(assistant.map((c) => c.id)).size).toBe(1);
    expect(new Set(assistant.map((c) => c.otid)).size).toBe(1);
    expect(assistant.map((c) => c.content).join('')).toBe('one two three four five');
    // Deltas are a live preview; the stored message's chunk keeps its place in the seq_id order.
    expect(assistant.at(-1)!.seq_id).toBe(2);
    await pollRun(stack.baseUrl, assistant[0].run_id!);
    const stored = await fetch(`${stack.baseUrl}/v1/runs/${assistant[0].run_id}/messages`).then((r) => r.json() as Promise<{ id: string; content: string }[]>);
    expect(stored[1]).toMatchObject({ id: assistant[0].id, content: 'one two three four five' });
  });

  it('resumes a run after a dropped connection: the assembled stream is whole, seq_ids without gaps or repeats', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const first = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'long job [fake:toolsteps=3][fake:tool=conversation_search][fake:args={"query":"q"}][fake:delay=150]', include_pings: false }),
    });
    // Drop the connection after the first tool call arrives, mid-run.
    const part = await readSse(first, (chunk) => chunk.message_type !== 'tool_call_message');
    expect(part.done).toBe(false);
    const runId = part.chunks[0].run_id!;
    const lastSeen = part.chunks.at(-1)!.seq_id!;

    const client = lettaClient(stack);
    const resumed: Chunk[] = [];
    for await (const chunk of await client.runs.messages.stream(runId, { starting_after: lastSeen, include_pings: false })) resumed.push(chunk as Chunk);

    // Without pings the ping (seq_id 1) is not sent; everything after it arrives exactly once.
    const all = [...part.chunks, ...resumed];
    expect(all.map((c) => c.seq_id)).toEqual(all.map((_, index) => index + 2));
    expect(all.map((c) => c.message_type)).toEqual([
      ...Array(3).fill(['tool_call_message', 'tool_return_message']).flat(),
      'assistant_message',
      'stop_reason',
      'usage_statistics',
    ]);
    expect(all.at(-3)!.content).toMatch(/^Done after 3 tool steps/);

    // A finished run replays whole from the start, on any request.
    const replay = await readSse(await fetch(`${stack.baseUrl}/v1/runs/${runId}/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    expect(replay.done).toBe(true);
    expect(replay.chunks.map((c) => c.seq_id)).toEqual([1, ...all.map((c) => c.seq_id)]);
    expect(replay.chunks.slice(1)).toEqual(all);
  });

  it('streams a run created by the async route, and ends a cancelled run with stop_reason cancelled', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'slow [fake:delay=2000]' });
    const streaming = fetch(`${stack.baseUrl}/v1/runs/${runId}/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"include_pings": true}' }).then((r) =>
      readSse(r),
    );
    await waitUntil(() => stack.model.requests.some((r) => JSON.stringify(r.body).includes('slow [fake')), 10_000);
    await postJson(stack.baseUrl, `/v1/runs/${runId}/cancel`, {});
    const result = await streaming;
    expect(result.done).toBe(true);
    const types = result.chunks.map((c) => c.message_type);
    expect(types[0]).toBe('ping');
    expect(types.at(-1)).toBe('stop_reason');
    expect(result.chunks.at(-1)!.stop_reason).toBe('cancelled');
    // Keep-alive pings repeat the last seq_id rather than taking new ones.
    const dataSeqIds = result.chunks.filter((c) => c.message_type !== 'ping').map((c) => c.seq_id);
    expect(dataSeqIds).toEqual([2]);
  });

  it('reports a model failure in-band after the first byte', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'boom [fake:status=401]' }),
    });
    expect(response.status).toBe(200);
    const result = await readSse(response);
    const types = result.chunks.map((c) => c.message_type);
    // Keep-alives (every 200 ms here) may come while the worker reaches the model, but nothing follows stop_reason.
    expect(types.filter((type, index) => index === 0 || type !== 'ping')).toEqual(['ping', 'stop_reason']);
    expect(types.at(-1)).toBe('stop_reason');
    expect(result.chunks.at(-1)!.stop_reason).toBe('llm_api_error');
    expect(result.errors).toEqual([expect.objectContaining({ message_type: 'error_message', error_type: 'llm_authentication' })]);
  });

  it('answers stream requests for unknown or malformed runs with a 4xx', async () => {
    const unknown = await postJson(stack.baseUrl, '/v1/runs/run-00000000-0000-4000-8000-000000000000/stream', {});
    expect(unknown.status).toBe(404);
    expect((await postJson(stack.baseUrl, '/v1/runs/nope/stream', {})).status).toBe(400);
    const agentId = await createAgent(stack.baseUrl);
    expect((await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/stream`, { input: 'x', max_steps: 0 })).status).toBe(422);
  });
});
