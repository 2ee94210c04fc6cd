import { DataSource } from 'typeorm';
import { newId, type LettaMessage } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { AgentStore } from './agent-store';
import { createReadModelDataSource } from './data-source';
import { MESSAGE_SEARCH_MAX_QUERY_CHARS, MessageQueries, type MessageSearch } from './message-queries';
import { UnknownCursor } from './pagination';
import { insertOwnedMessages, type MessageOwner } from './pg-values';

const ORG = newId('org');
const OTHER_ORG = newId('org');
const T0 = Date.UTC(2026, 0, 1);
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

type Body = Partial<Record<'content' | 'reasoning' | 'tool_return' | 'summary' | 'tool_calls', unknown>>;

function message(type: LettaMessage['message_type'], body: Body, offsetMs: number): LettaMessage {
  const base = { id: newId('message'), date: at(offsetMs), name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: null };
  return { ...base, message_type: type, ...body } as unknown as LettaMessage;
}

function toolReturn(text: string): Body {
  const result = { tool_call_id: 'call-1', tool_return: text, status: 'success', stdout: null, stderr: null };
  return { ...result, tool_returns: [{ type: 'tool', ...result }] } as Body;
}

/**
 * `GET /v1/messages`, `GET /v1/messages/{id}`, `POST /v1/messages/search` and the
 * conversation_search tool's query (message-queries.ts) on a real Postgres, with the search index
 * of the MessageSearch migration.
 */
describe('message list and full-text search on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let queries: MessageQueries;
  const agentA = newId('agent');
  const agentB = newId('agent');
  const foreignAgent = newId('agent');
  const conversationA = newId('conv');
  const stored: { owner: MessageOwner; message: LettaMessage }[] = [];
  const byText = new Map<string, LettaMessage>();

  const add = (owner: Omit<MessageOwner, 'runId'>, type: LettaMessage['message_type'], body: Body, key: string) => {
    const item = message(type, body, stored.length * 1_000);
    stored.push({ owner: { ...owner, runId: null }, message: item });
    byText.set(key, item);
    return item;
  };
  const own = (agentId: string, laneId = agentId, organizationId = ORG) => ({ organizationId, agentId, laneId });
  const idOf = (key: string) => byText.get(key)!.id;
  const search = async (query: string, options: Partial<MessageSearch> = {}, organizationId = ORG) =>
    (await queries.search(organizationId, { query, limit: 50, ...options })).map((hit) => hit.message.id);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    queries = new MessageQueries(dataSource);
    add(own(agentA), 'user_message', { content: 'Please remember: kiwi kiwi kiwi smoothie' }, 'kiwi-dense');
    add(own(agentA), 'assistant_message', { content: 'A long answer that mentions kiwi only once, among a great many other unrelated words about weather and trains' }, 'kiwi-sparse');
    add(own(agentA), 'user_message', { content: 'apple and banana bread' }, 'apple-banana');
    add(own(agentA), 'user_message', { content: 'apple pie' }, 'apple');
    add(own(agentA), 'reasoning_message', { reasoning: 'The user wants a walrus fact' }, 'reasoning');
    add(own(agentA), 'tool_return_message', toolReturn('walrus facts: tusks'), 'tool-return');
    add(own(agentA, conversationA), 'user_message', { content: [{ type: 'text', text: 'what should I cook? run-probe' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'zebraImageData' } }] }, 'parts');
    add(own(agentA, conversationA), 'assistant_message', { content: [{ type: 'text', text: 'Cook the walrus-free stew' }] }, 'conv-assistant');
    add(own(agentB), 'user_message', { content: 'kiwi from agent B, walrus too' }, 'agent-b');
    add(own(agentB), 'system_message', { content: 'system prompt of B' }, 'system');
    add(own(foreignAgent, foreignAgent, OTHER_ORG), 'user_message', { content: 'kiwi walrus apple secret of another organization' }, 'foreign');
    await insertOwnedMessages(dataSource.manager, stored);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it("lists the organization's messages across agents in execution order, by agent, thread and type, with cursors", async () => {
    const ours = stored.filter((item) => item.owner.organizationId === ORG).map((item) => item.message.id);
    const ids = async (filter: Partial<Parameters<MessageQueries['list']>[1]> = {}, organizationId = ORG) =>
      (await queries.list(organizationId, { limit: 100, order: 'asc', ...filter })).map((item) => item.id);
    expect(await ids()).toEqual(ours);
    expect(await ids({ order: 'desc' })).toEqual([...ours].reverse());
    expect(await ids({}, OTHER_ORG)).toEqual([idOf('foreign')]);
    expect(await ids({ agentId: agentB })).toEqual([idOf('agent-b'), idOf('system')]);
    expect(await ids({ agentId: foreignAgent })).toEqual([]);
    expect(await ids({ conversationId: conversationA })).toEqual([idOf('parts'), idOf('conv-assistant')]);
    expect(await ids({ conversationId: 'default', agentId: agentA })).toEqual(ours.slice(0, 6));
    expect(await ids({ conversationId: 'default' })).toEqual(ours.filter((id) => id !== idOf('parts') && id !== idOf('conv-assistant')));
    expect(await ids({ messageTypes: ['reasoning_message', 'system_message'] })).toEqual([idOf('reasoning'), idOf('system')]);
    expect(await ids({ after: ours[0], limit: 2 })).toEqual(ours.slice(1, 3));
    expect(await ids({ order: 'desc', after: ours[2], limit: 5 })).toEqual([ours[1], ours[0]]);
    expect(await ids({ before: ours[3], after: ours[0] })).toEqual(ours.slice(1, 3));
    await expect(ids({ after: idOf('foreign') })).rejects.toBeInstanceOf(UnknownCursor);
  });

  it('finds a message only in its own organization, as stored', async () => {
    expect(await queries.find(ORG, idOf('parts'))).toEqual(byText.get('parts'));
    expect(await queries.find(OTHER_ORG, idOf('parts'))).toBeNull();
    expect(await queries.find(ORG, idOf('foreign'))).toBeNull();
    expect(await queries.find(ORG, newId('message'))).toBeNull();
  });

  it('ranks matches: more of the query, and denser, first; the searchable types only; with agent and conversation', async () => {
    expect(await search('kiwi')).toEqual([idOf('kiwi-dense'), idOf('agent-b'), idOf('kiwi-sparse')]);
    expect(await search('apple or banana')).toEqual([idOf('apple-banana'), idOf('apple')]);
    expect(await search('apple banana')).toEqual([idOf('apple-banana')]);
    expect(await search('apple -banana')).toEqual([idOf('apple')]);
    expect(await search('"banana bread"')).toEqual([idOf('apple-banana')]);
    expect(await search('"bread banana"')).toEqual([]);
    // Case-insensitive; the text of content parts and reasoning is searched, image data and tool returns are not (Letta's search shapes).
    expect(await search('WALRUS')).toEqual(expect.arrayContaining([idOf('reasoning'), idOf('agent-b'), idOf('conv-assistant')]));
    expect(await search('walrus')).toHaveLength(3);
    expect(await search('zebraImageData')).toEqual([]);
    expect(await search('tusks')).toEqual([]);
    const [hit] = await queries.search(ORG, { query: 'run-probe', limit: 5 });
    expect(hit).toMatchObject({ message: byText.get('parts'), agentId: agentA, conversationId: conversationA });
    expect(hit.rank).toBeGreaterThan(0);
    expect((await queries.search(ORG, { query: 'smoothie', limit: 5 }))[0]).toMatchObject({ agentId: agentA, conversationId: null });
  });

  it('filters by agent, conversation, dates and limit, and never answers another organization', async () => {
    expect(await search('kiwi', { agentId: agentB })).toEqual([idOf('agent-b')]);
    expect(await search('kiwi', { agentId: foreignAgent })).toEqual([]);
    expect(await search('walrus', { conversationId: conversationA })).toEqual([idOf('conv-assistant')]);
    expect(await search('walrus', { conversationId: 'default' })).toEqual(expect.arrayContaining([idOf('reasoning'), idOf('agent-b')]));
    expect(await search('walrus', { conversationId: 'default' })).toHaveLength(2);
    expect(await search('kiwi', { startDate: byText.get('kiwi-sparse')!.date })).toEqual([idOf('agent-b'), idOf('kiwi-sparse')]);
    expect(await search('kiwi', { endDate: byText.get('kiwi-sparse')!.date })).toEqual([idOf('kiwi-dense'), idOf('kiwi-sparse')]);
    expect(await search('kiwi', { limit: 1 })).toEqual([idOf('kiwi-dense')]);
    for (const query of ['secret', 'kiwi', 'walrus', 'apple', 'organization']) expect(await search(query)).not.toContain(idOf('foreign'));
    expect(await search('secret', {}, OTHER_ORG)).toEqual([idOf('foreign')]);
  });

  it("searches an agent's history for conversation_search: its roles, tool returns included, hyphenated words", async () => {
    const tool = async (query: string, messageTypes = ['user_message', 'assistant_message', 'tool_return_message'], agentId = agentA) =>
      (await queries.searchMessages(agentId, { query, messageTypes, limit: 5, startDate: null, endDate: null })).map((item) => item.id);
    expect(await tool('run-probe', ['user_message'])).toEqual([idOf('parts')]);
    expect(await tool('probe')).toEqual([idOf('parts')]);
    expect(await tool('tusks')).toEqual([idOf('tool-return')]);
    expect(await tool('walrus')).toEqual(expect.arrayContaining([idOf('tool-return'), idOf('conv-assistant')]));
    expect(await tool('walrus')).toHaveLength(2);
    expect(await tool('kiwi', ['user_message'], agentB)).toEqual([idOf('agent-b')]);
    expect(await tool('secret', ['user_message'], foreignAgent)).toEqual([idOf('foreign')]);
    expect(await tool('secret')).toEqual([]);
  });

  it("answers whether the organization has the agent, and the agent's pending approval, in one read", async () => {
    const agent = await new AgentStore(dataSource).create({
      organizationId: ORG, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks: [], tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
    expect(await queries.agentWithPendingApproval(ORG, agent.id, null)).toEqual({ agentFound: true, pending: null });
    expect(await queries.agentWithPendingApproval(OTHER_ORG, agent.id, null)).toEqual({ agentFound: false, pending: null });
    expect(await queries.agentWithPendingApproval(ORG, newId('agent'), null)).toEqual({ agentFound: false, pending: null });

    const call = { tool_call_id: 'call-9', name: 'delete_everything', arguments: '{}' };
    const request = message('approval_request_message', { tool_calls: [call] }, 500_000);
    await insertOwnedMessages(dataSource.manager, [{ owner: { ...own(agent.id), runId: newId('run') }, message: request }]);
    expect(await queries.agentWithPendingApproval(ORG, agent.id, null)).toEqual({ agentFound: true, pending: expect.objectContaining({ id: request.id }) });
    expect(await queries.pendingApproval(agent.id)).toEqual(expect.objectContaining({ id: request.id }));
    expect(await queries.agentWithPendingApproval(OTHER_ORG, agent.id, null)).toMatchObject({ agentFound: false });
  });

  it('takes any query text without a database error: operators, quotes, tsquery syntax, the longest query', async () => {
    const hostile = [
      '', ' ', '!!!', '&', '|', '!', '(', ')', ':', '*', ':*', "'", "''", '"', '"""', '\\', '\\\\', "'; DROP TABLE messages; --",
      'a & | b', '!(kiwi)', 'kiwi:*', 'kiwi:A', '(kiwi | apple) & !banana', 'kiwi <-> apple', 'kiwi <2> apple', '<->', '-', '--kiwi', 'or', 'or or',
      '"unterminated', 'kiwi"', '-"kiwi"', '%_%', '\u00a0\u2028', '😀 漢字', '\ufffd', 'x'.repeat(3_000), 'kiwi '.repeat(2_000),
      Array.from({ length: MESSAGE_SEARCH_MAX_QUERY_CHARS }, (_, i) => '&|!():*\'"<->'[i % 12]).join(''),
    ];
    for (const query of hostile) {
      await expect(search(query)).resolves.toEqual(expect.any(Array));
      await expect(queries.searchMessages(agentA, { query, messageTypes: ['user_message'], limit: 5, startDate: null, endDate: null })).resolves.toEqual(expect.any(Array));
    }
    expect(await search('!(kiwi)')).toEqual(await search('kiwi'));
    expect(await search("kiwi:* '")).toEqual(await search('kiwi'));
    // The same text past the longest query (the gateway refuses it first) is cut, not an error.
    await expect(search('kiwi '.repeat(300_000))).resolves.toEqual(expect.arrayContaining([idOf('kiwi-dense')]));
  });

  it('stores a message of any length: the first 100,000 characters are searchable', async () => {
    const words = Array.from({ length: 120_000 }, (_, i) => `w${i.toString(36)}q`);
    const huge = add(own(agentB), 'user_message', { content: `needleatstart ${words.join(' ')} needleatend` }, 'huge');
    await insertOwnedMessages(dataSource.manager, [stored[stored.length - 1]]);
    expect(await search('needleatstart')).toEqual([huge.id]);
    expect(await search('needleatend')).toEqual([]);
    await dataSource.query(`DELETE FROM messages WHERE id = $1`, [huge.id]);
  });

  it('answers through the GIN index, not by reading every message', async () => {
    const filler = Array.from({ length: 3_000 }, (_, i) => ({
      owner: { ...own(i % 2 ? agentA : agentB), runId: null },
      message: message('user_message', { content: `filler message ${i} about nothing in particular` }, 100_000 + i),
    }));
    await insertOwnedMessages(dataSource.manager, filler);
    // As autovacuum would: statistics, and the GIN index's pending list merged.
    await dataSource.query('VACUUM ANALYZE messages');
    const plan = async (run: () => Promise<unknown>, seqscan: boolean): Promise<string> => {
      const spy = jest.spyOn(dataSource, 'query');
      await run();
      const [sql, params] = spy.mock.calls.at(-1)!;
      spy.mockRestore();
      const runner = dataSource.createQueryRunner();
      try {
        await runner.startTransaction();
        if (!seqscan) await runner.query('SET LOCAL enable_seqscan = off');
        const rows: { 'QUERY PLAN': string }[] = await runner.query(`EXPLAIN ${sql}`, params);
        await runner.rollbackTransaction();
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      } finally {
        await runner.release();
      }
    };
    // A selective word: the planner picks the index by itself, for the organization and for one agent.
    expect(await plan(() => queries.search(ORG, { query: 'smoothie', limit: 10 }), true)).toMatch(/Bitmap Index Scan on messages_search_idx/);
    expect(await plan(() => queries.search(ORG, { query: 'walrus', agentId: agentA, limit: 10 }), true)).toMatch(/messages_search_idx/);
    // The tool's query, and a word every filler message has, with sequential scans priced out.
    expect(await plan(() => queries.searchMessages(agentA, { query: 'kiwi', messageTypes: ['user_message'], limit: 5, startDate: null, endDate: null }), false)).toMatch(/messages_search_idx/);
    expect(await plan(() => queries.search(ORG, { query: 'filler', limit: 10 }), false)).toMatch(/messages_search_idx/);
    // And it still finds them all, best first.
    expect(await search('filler particular', { limit: 5_000 })).toHaveLength(3_000);
  });
});
