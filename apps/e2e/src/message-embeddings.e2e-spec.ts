import Letta from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { organizationKey, searchResultText as textOf, waitUntil } from './helpers';

const BOOTSTRAP_KEY = 'lrs-e2e-bootstrap-admin-key-msg-embeddings-0123456789';

/**
 * Message embeddings switched on (MESSAGE_EMBEDDINGS=true), through the official client: messages
 * sent are embedded in the background by the llm-worker (the fake model's embeddings: texts that
 * share words are close), then `vector` search finds them by meaning and `hybrid` fuses both
 * rankings; another organization's messages are never found, a reset agent's are gone, and
 * hostile input is a 4xx.
 */
describe('message search by meaning (message embeddings on)', () => {
  let stack: TestStack;
  let acme: Letta;
  let globex: Letta;
  let keyA: string;
  let agentA: string;
  let agentB: string;

  const vector = (query: string, extra: Record<string, unknown> = {}) => acme.messages.search({ query, search_mode: 'vector', ...extra });

  beforeAll(async () => {
    stack = await TestStack.start({ env: { BOOTSTRAP_API_KEY: BOOTSTRAP_KEY, MESSAGE_EMBEDDINGS: 'true', MESSAGE_EMBEDDINGS_INTERVAL_MS: '100' } });
    let keyB: string;
    [keyA, keyB] = await Promise.all(['acme', 'globex'].map((organization) => organizationKey(stack, BOOTSTRAP_KEY, organization)));
    const client = (key: string) => new Letta({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0, timeout: 20_000 });
    [acme, globex] = [client(keyA), client(keyB)];
    const create = (owner: Letta) => owner.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Ada' }] });
    [agentA, agentB] = (await Promise.all([create(acme), create(acme)])).map((agent) => agent.id);
    const foreignAgent = (await create(globex)).id;
    await acme.agents.messages.create(agentA, { input: 'my favourite fruit is the mango' });
    await acme.agents.messages.create(agentB, { input: 'the weather in oslo is cold and grey' });
    await globex.agents.messages.create(foreignAgent, { input: 'globex secret: favourite fruit mango' });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('finds a message by meaning once embedded, never another organization\'s, and fuses full text and meaning in hybrid', async () => {
    // No message has all these words: full text finds nothing, meaning finds the mango.
    const query = 'which fruit does the user like, mango?';
    expect(await acme.messages.search({ query, search_mode: 'fts' })).toEqual([]);
    await waitUntil(async () => (await vector(query)).some((hit) => textOf(hit) === 'my favourite fruit is the mango'), 30_000);
    const found = await vector(query, { limit: 2 });
    expect(found.map(textOf)).toEqual(['my favourite fruit is the mango', 'Echo: my favourite fruit is the mango']);
    expect(found[0]).toMatchObject({ message_type: 'user_message', agent_id: agentA, conversation_id: null });
    expect(JSON.stringify(await vector('globex secret favourite fruit mango', { limit: 50 }))).not.toContain('globex');
    expect((await vector('weather oslo', { agent_id: agentB, limit: 50 })).every((hit) => hit.agent_id === agentB)).toBe(true);
    expect((await globex.messages.search({ query, search_mode: 'vector' })).map(textOf)).toContain('globex secret: favourite fruit mango');

    // Hybrid: the full-text match first, then what only meaning found.
    const hybrid = await acme.messages.search({ query: 'oslo', search_mode: 'hybrid', limit: 50 });
    expect(hybrid.slice(0, 2).map(textOf).sort()).toEqual(['Echo: the weather in oslo is cold and grey', 'the weather in oslo is cold and grey']);
    expect(hybrid.map(textOf)).not.toContain('globex secret: favourite fruit mango');
    expect((await acme.messages.search({ query })).map(textOf)).toContain('my favourite fruit is the mango');
  });

  it("forgets a reset agent's messages", async () => {
    await acme.agents.messages.reset(agentB, { add_default_initial_messages: false });
    expect((await vector('weather in oslo cold grey', { limit: 50 })).map(textOf)).not.toContain('the weather in oslo is cold and grey');
  });

  it('answers hostile input with a 4xx and a detail', async () => {
    for (const body of [
      '{"query": "kiwi", "search_mode": "vector", "limit": 0}',
      '{"query": "kiwi", "search_mode": "vector", "start_date": "-9999-01-01"}',
      '{"query": "kiwi", "search_mode": "vector", "conversation_id": "conv-x"}','{"query": "kiwi", "search_mode": "vector", "agent_id": "agent-123"}', '{"query": "\\ud800", "search_mode": "vector"}', '{"query": null, "search_mode": "vector"}', JSON.stringify({ query: 'k'.repeat(10_001), search_mode: 'vector' })]) {
      const response = await fetch(`${stack.baseUrl}/v1/messages/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keyA}` }, body });
      expect({ body: body.slice(0, 60), status: response.status >= 400 && response.status < 500 }).toEqual({ body: body.slice(0, 60), status: true });
    }
    expect(Array.isArray(await vector("')&|!:* <->"))).toBe(true);
  });
});
