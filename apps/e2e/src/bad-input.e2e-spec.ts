import { Client } from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { TestStack } from '@lrs/testing';
import { createAgent, postJson } from './helpers';

/** Bad input gets a 4xx with a detail naming the problem, and leaves no trace in the log or the read model. */
describe('bad input', () => {
  let stack: TestStack;
  let agentId: string;

  beforeAll(async () => {
    stack = await TestStack.start();
    agentId = await createAgent(stack.baseUrl);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function traces(): Promise<{ events: number; runs: number; messages: number }> {
    const nc = await connect({ servers: stack.nats.url });
    const jsm = await jetstreamManager(nc);
    const events = (await jsm.streams.info('RUN_EVENTS')).state.messages;
    await nc.close();
    const db = new Client({ connectionString: stack.database.url });
    await db.connect();
    const runs = Number((await db.query('SELECT count(*) FROM runs')).rows[0].count);
    const messages = Number((await db.query('SELECT count(*) FROM messages')).rows[0].count);
    await db.end();
    return { events, runs, messages };
  }

  const asyncPath = () => `/v1/agents/${agentId}/messages/async`;
  const cases: { name: string; path: () => string; body: unknown; status: number; detail: RegExp }[] = [
    { name: 'malformed agent id', path: () => '/v1/agents/agent-123/messages/async', body: { input: 'hi' }, status: 422, detail: /agent_id.*agent-\{uuid4\}/ },
    { name: 'unknown agent', path: () => '/v1/agents/agent-00000000-0000-4000-8000-000000000000/messages/async', body: { input: 'hi' }, status: 404, detail: /Agent not found/ },
    { name: 'both messages and input', path: asyncPath, body: { input: 'hi', messages: [{ role: 'user', content: 'hi' }] }, status: 422, detail: /Cannot specify both 'input' and 'messages'/ },
    { name: 'neither messages nor input', path: asyncPath, body: { max_steps: 3 }, status: 422, detail: /Must specify either 'input' or 'messages'/ },
    { name: 'empty messages', path: asyncPath, body: { messages: [] }, status: 422, detail: /Messages must not be empty/ },
    { name: 'unknown role', path: asyncPath, body: { messages: [{ role: 'wizard', content: 'hi' }] }, status: 422, detail: /messages\.0\.role/ },
    { name: 'content of the wrong type', path: asyncPath, body: { messages: [{ role: 'user', content: 42 }] }, status: 422, detail: /messages\.0\.content/ },
    { name: 'unsupported content part', path: asyncPath, body: { input: [{ type: 'video', url: 'x' }] }, status: 422, detail: /input part 0 has unsupported type "video"/ },
    { name: 'max_steps not an integer', path: asyncPath, body: { input: 'hi', max_steps: 'many' }, status: 422, detail: /max_steps/ },
    { name: 'unknown message type filter', path: asyncPath, body: { input: 'hi', include_return_message_types: ['gossip_message'] }, status: 422, detail: /include_return_message_types/ },
    { name: 'callback_url not a URL', path: asyncPath, body: { input: 'hi', callback_url: 'not a url' }, status: 422, detail: /callback_url must be an absolute http\(s\) URL/ },
    { name: 'override_model without provider', path: asyncPath, body: { input: 'hi', override_model: 'gpt-4o' }, status: 422, detail: /override_model/ },
    { name: 'malformed JSON', path: asyncPath, body: '{"input": "hi",', status: 400, detail: /Malformed JSON body/ },
    { name: 'a NUL in the input', path: asyncPath, body: '{"input": "bad \\u0000 byte"}', status: 422, detail: /body\.input contains a NUL/ },
    { name: 'a lone surrogate in a message', path: asyncPath, body: '{"messages": [{"role": "user", "content": "x\\ud800"}]}', status: 422, detail: /body\.messages\[0\]\.content contains/ },
    { name: 'a NUL in an agent name', path: () => '/v1/agents', body: '{"name": "a\\u0000b"}', status: 422, detail: /body\.name contains a NUL/ },
    { name: 'JSON nested 20,000 deep', path: asyncPath, body: `{"input": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`, status: 422, detail: /nested more than 64 levels/ },
    { name: 'a NUL in the path', path: () => '/v1/agents/agent-1%00/messages/async', body: { input: 'hi' }, status: 422, detail: /URL path contains a NUL/ },
  ];

  it.each(cases)('$name -> $status with a clear detail, nothing written', async ({ path, body, status, detail }) => {
    const before = await traces();
    const response = await postJson(stack.baseUrl, path(), body);
    expect(response.status).toBe(status);
    expect(typeof response.body.detail).toBe('string');
    expect(response.body.detail).toMatch(detail);
    expect(await traces()).toEqual(before);
  });

  it('a malformed run id is 400 INVALID_ARGUMENT, an unknown one 404', async () => {
    const malformed = await fetch(`${stack.baseUrl}/v1/runs/run-nope`);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { detail: string }).detail).toMatch(/^INVALID_ARGUMENT: Invalid run ID format/);
    const unknown = await fetch(`${stack.baseUrl}/v1/runs/run-00000000-0000-4000-8000-000000000000/messages`);
    expect(unknown.status).toBe(404);
  });

  it('rejects bad list queries and unknown cursors with a 4xx', async () => {
    for (const [query, status] of [
      ['limit=0', 422],
      ['limit=5000', 422],
      ['order=sideways', 422],
      ['statuses=exploded', 422],
      ['after=run-00000000-0000-4000-8000-000000000000', 400],
      // A signed year passes ISO 8601's letter but is no instant JavaScript or Postgres can hold.
      ['created_after=-9999-01-01T00:00:00Z', 422],
      ['created_before=%2B275760-09-13T00:00:00Z', 422],
    ] as const) {
      const response = await fetch(`${stack.baseUrl}/v1/runs?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status });
      expect(typeof ((await response.json()) as { detail: unknown }).detail).toBe('string');
    }
  });

  it('rejects invalid agents without creating anything', async () => {
    const before = await fetch(`${stack.baseUrl}/v1/agents`).then((r) => r.json() as Promise<unknown[]>);
    const tooLong = await postJson(stack.baseUrl, '/v1/agents', { memory_blocks: [{ label: 'human', value: 'x'.repeat(20), limit: 10 }] });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.detail).toMatch(/exceed the block limit of 10/);
    const badModel = await postJson(stack.baseUrl, '/v1/agents', { model: 'gpt-4o' });
    expect(badModel.status).toBe(422);
    expect(badModel.body.detail).toMatch(/<provider>\/<model>/);
    const after = await fetch(`${stack.baseUrl}/v1/agents`).then((r) => r.json() as Promise<unknown[]>);
    expect(after).toHaveLength(before.length);
  });

  it('answers unknown routes with a Letta error body', async () => {
    const response = await fetch(`${stack.baseUrl}/v1/nothing-here`);
    expect(response.status).toBe(404);
    expect(typeof ((await response.json()) as { detail: unknown }).detail).toBe('string');
  });

  it("answers requests Node's parser refuses (a 20 KB URL, 20 KB of headers) with a status and a detail, and keeps serving", async () => {
    const longUrl = await fetch(`${stack.baseUrl}/v1/agents?name=${'x'.repeat(20_000)}`);
    expect(longUrl.status).toBe(431);
    expect(await longUrl.json()).toEqual({ detail: expect.stringContaining('too large') });
    const longHeader = await fetch(`${stack.baseUrl}/v1/health`, { headers: { 'x-padding': 'y'.repeat(20_000) } });
    expect(longHeader.status).toBe(431);
    expect((await fetch(`${stack.baseUrl}/v1/health`)).status).toBe(200);
  });
});
