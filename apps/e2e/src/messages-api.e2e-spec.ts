import Letta, { BadRequestError, NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import type { MessageListParams } from '@letta-ai/letta-client/resources/messages';
import { TestStack } from '@lrs/testing';
import { organizationKey, searchResultText as textOf } from './helpers';

const BOOTSTRAP_KEY = 'lrs-e2e-bootstrap-admin-key-messages-0123456789';

/**
 * Letta's `/v1/messages` through the official client: the organization's messages across agents
 * (list, retrieve) and full-text search over them, never another organization's; hostile input is
 * a 4xx with a detail.
 */
describe('messages across agents: list, retrieve, search', () => {
  let stack: TestStack;
  let acme: Letta;
  let globex: Letta;
  let keyA: string;
  let agentA: string;
  let agentB: string;
  let conversation: string;
  let foreignAgent: string;

  const raw = async (method: string, path: string, body?: string, key = keyA) => {
    const response = await fetch(`${stack.baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
    const text = await response.text();
    let detail: unknown;
    try {
      detail = (JSON.parse(text) as { detail?: unknown }).detail;
    } catch {
      detail = undefined;
    }
    return { status: response.status, detail, text };
  };

  beforeAll(async () => {
    stack = await TestStack.start({ env: { BOOTSTRAP_API_KEY: BOOTSTRAP_KEY } });
    let keyB: string;
    [keyA, keyB] = await Promise.all(['acme', 'globex'].map((organization) => organizationKey(stack, BOOTSTRAP_KEY, organization)));
    const client = (key: string) => new Letta({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0, timeout: 20_000 });
    [acme, globex] = [client(keyA), client(keyB)];
    [agentA, agentB, foreignAgent] = (
      await Promise.all([acme, acme, globex].map((owner) => owner.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Ada' }] })))
    ).map((agent) => agent.id);
    conversation = (await acme.conversations.create({ agent_id: agentA })).id;
    await acme.agents.messages.create(agentA, { input: 'I would like a kiwi smoothie please' });
    await acme.agents.messages.create(agentB, { input: 'tell me walrus facts, run-probe' });
    for await (const chunk of await acme.conversations.messages.create(conversation, { input: 'kiwi kiwi kiwi in a conversation' })) void chunk;
    await globex.agents.messages.create(foreignAgent, { input: 'kiwi secret of globex walrus' });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("lists the organization's messages across agents, by agent, conversation and type, with cursors; retrieves one", async () => {
    const all = await acme.messages.list({ order: 'asc' });
    const texts = all.map((message) => ('content' in message ? message.content : message.message_type));
    expect(texts).toEqual([
      'I would like a kiwi smoothie please',
      'Echo: I would like a kiwi smoothie please',
      'tell me walrus facts, run-probe',
      'Echo: tell me walrus facts, run-probe',
      'kiwi kiwi kiwi in a conversation',
      'Echo: kiwi kiwi kiwi in a conversation',
    ]);
    expect(JSON.stringify(all)).not.toContain('globex');
    expect((await acme.messages.list()).map((message) => message.id)).toEqual(all.map((message) => message.id).reverse());
    // The same messages, in the same shape, as the agent's own list.
    const ofAgentB = await acme.agents.messages.list(agentB, { order: 'asc' });
    expect(await acme.messages.list({ order: 'asc', agent_id: agentB } as MessageListParams)).toEqual(ofAgentB.getPaginatedItems());
    expect((await acme.messages.list({ conversation_id: conversation, order: 'asc' })).map((message) => message.id)).toEqual(all.slice(4).map((message) => message.id));
    expect((await acme.messages.list({ conversation_id: 'default', order: 'asc' })).map((message) => message.id)).toEqual(all.slice(0, 4).map((message) => message.id));
    expect((await acme.messages.list({ include_return_message_types: ['user_message'], order: 'asc' })).map((message) => message.id)).toEqual([all[0].id, all[2].id, all[4].id]);
    expect((await acme.messages.list({ after: all[1].id, limit: 2, order: 'asc' })).map((message) => message.id)).toEqual([all[2].id, all[3].id]);
    expect((await acme.messages.list({ before: all[1].id, order: 'desc' })).map((message) => message.id)).toEqual([all[5].id, all[4].id, all[3].id, all[2].id]);
    expect((await globex.messages.list()).map((message) => message.id)).toHaveLength(2);

    expect(await acme.messages.retrieve(all[3].id)).toEqual([all[3]]);
    await expect(globex.messages.retrieve(all[3].id)).rejects.toMatchObject({ status: 404, error: { detail: `Message with id ${all[3].id} not found.` } });
    await expect(acme.messages.retrieve('message-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it("searches the organization's messages by full text, best match first, in Letta's result shape, never another organization's", async () => {
    const kiwi = await acme.messages.search({ query: 'kiwi' });
    expect(kiwi.map(textOf)).toEqual([
      'kiwi kiwi kiwi in a conversation',
      'Echo: kiwi kiwi kiwi in a conversation',
      'I would like a kiwi smoothie please',
      'Echo: I would like a kiwi smoothie please',
    ]);
    expect(kiwi[0]).toEqual({
      message_id: expect.stringMatching(/^message-/),
      message_type: 'user_message',
      content: 'kiwi kiwi kiwi in a conversation',
      agent_id: agentA,
      conversation_id: conversation,
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(kiwi[2]).toMatchObject({ agent_id: agentA, conversation_id: null });
    expect(JSON.stringify(kiwi)).not.toContain('globex');
    expect((await globex.messages.search({ query: 'kiwi' })).map(textOf)).toEqual(['kiwi secret of globex walrus', 'Echo: kiwi secret of globex walrus']);

    expect((await acme.messages.search({ query: 'run-probe' })).map((result) => result.agent_id)).toEqual([agentB, agentB]);
    expect((await acme.messages.search({ query: 'kiwi', agent_id: agentB })).length).toBe(0);
    expect((await acme.messages.search({ query: 'kiwi', agent_id: foreignAgent })).length).toBe(0);
    expect((await acme.messages.search({ query: 'kiwi', conversation_id: conversation, limit: 1 })).map(textOf)).toEqual(['kiwi kiwi kiwi in a conversation']);
    expect((await acme.messages.search({ query: 'kiwi smoothie', search_mode: 'fts' })).map(textOf)).toHaveLength(2);
    expect((await acme.messages.search({ query: '"smoothie please" -echo', search_mode: 'hybrid' })).map(textOf)).toEqual(['I would like a kiwi smoothie please']);
    expect(await acme.messages.search({ query: 'kiwi', start_date: '2100-01-01T00:00:00Z' })).toEqual([]);
    expect(await acme.messages.search({ query: 'kiwi', end_date: '2000-01-01' })).toEqual([]);
    // Query text is words, never syntax.
    for (const query of ['&|!():*', "kiwi' OR 1=1 --", '<->', '"', '\\', '']) expect(Array.isArray(await acme.messages.search({ query }))).toBe(true);
    for (const query of ['!kiwi', 'kiwi:*', '(kiwi)', 'KIWI']) expect((await acme.messages.search({ query })).map(textOf)).toEqual(kiwi.map(textOf));

    await expect(acme.messages.search({ query: 'kiwi', search_mode: 'vector' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(acme.messages.search({ query: 'kiwi', search_mode: 'vector' })).rejects.toMatchObject({ error: { detail: expect.stringContaining('no embeddings') } });

    // conversation_search, the agent's tool, uses the same search over the agent's own history.
    const found = await acme.agents.tools.run('conversation_search', { agent_id: agentA, args: { query: 'kiwi', roles: ['user'] } });
    expect(JSON.parse(String(found.func_return))).toEqual([
      expect.objectContaining({ role: 'user', content: 'kiwi kiwi kiwi in a conversation' }),
      expect.objectContaining({ role: 'user', content: 'I would like a kiwi smoothie please' }),
    ]);
    const hostile = await acme.agents.tools.run('conversation_search', { agent_id: agentA, args: { query: "')&|!:* <->" } });
    expect(hostile).toMatchObject({ status: 'success', func_return: '[]' });
  });

  it('answers hostile input with a 4xx and a detail, never a 5xx', async () => {
    await expect(acme.messages.search({ query: 5 as unknown as string })).rejects.toBeInstanceOf(UnprocessableEntityError);
    const bodies = [
      '{"query": "a\\u0000b"}',
      '{"query": "\\ud800"}',
      '{}',
      '{"query": null}',
      '[]',
      '"kiwi"',
      '{"query": "kiwi", "limit": 1e308}',
      '{"query": "kiwi", "limit": 0}',
      '{"query": "kiwi", "limit": "5"}',
      '{"query": "kiwi", "limit": 2.5}',
      '{"query": "kiwi", "search_mode": "semantic"}',
      '{"query": "kiwi", "agent_id": "agent-123"}',
      '{"query": "kiwi", "agent_id": 5}',
      '{"query": "kiwi", "conversation_id": "conv-x"}',
      '{"query": "kiwi", "start_date": "yesterday"}',
      '{"query": "kiwi", "start_date": "-9999-01-01"}',
      '{"query": "kiwi", "end_date": "9999-12-31T23:59:59-01:00"}',
      '{"query": "kiwi", "end_date": "2025-W01-1"}',
      JSON.stringify({ query: 'k'.repeat(10_001) }),
      '{"query": "kiwi",',
    ];
    for (const body of bodies) {
      const answer = await raw('POST', '/v1/messages/search', body);
      expect({ body: body.slice(0, 80), status: answer.status >= 400 && answer.status < 500, detail: typeof answer.detail }).toEqual({ body: body.slice(0, 80), status: true, detail: 'string' });
    }
    for (const path of [
      '/v1/messages?limit=1e308',
      '/v1/messages?limit=0',
      '/v1/messages?order=sideways',
      '/v1/messages?include_return_message_types=gossip_message',
      '/v1/messages?agent_id=agent-123',
      '/v1/messages?conversation_id=%00',
      '/v1/messages?after=message-nope',
      '/v1/messages?before=%ED%A0%80',
      '/v1/messages/message-nope',
      '/v1/messages/%00',
      '/v1/messages/%ED%A0%80',
    ]) {
      const answer = await raw('GET', path);
      expect({ path, status: answer.status >= 400 && answer.status < 500, detail: typeof answer.detail }).toEqual({ path, status: true, detail: 'string' });
    }
    // Another organization's message as a cursor is unknown here.
    const [foreign] = await globex.messages.list();
    expect((await raw('GET', `/v1/messages?after=${foreign.id}`)).status).toBe(400);
  });
});
