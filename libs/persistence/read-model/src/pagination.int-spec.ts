import { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore } from './agent-store';
import { ConversationStore } from './conversation-store';
import { UnknownCursor, type PageQuery } from './pagination';

/** Keyset paging (pagination.ts) on a real Postgres, through two of the lists that use it. */
describe('keyset pagination on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;
  let conversations: ConversationStore;
  const organizationId = newId('org');
  let agentIds: string[];

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    agents = new AgentStore(dataSource);
    conversations = new ConversationStore(dataSource);
    agentIds = [];
    // One at a time, so creation order is the list's order.
    for (let i = 0; i < 5; i++) {
      const agent = await agents.create({
        organizationId, name: `a${i}`, system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
        memoryBlocks: [], blockIds: [], tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
      });
      agentIds.push(agent.id);
    }
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const listAgents = async (page: Omit<PageQuery, 'limit'> & { limit?: number }) =>
    (await agents.list(organizationId, { limit: 100, ...page })).map((agent) => agent.id);

  it('lists in either order, and a cursor moves along the requested order', async () => {
    expect(await listAgents({ order: 'asc' })).toEqual(agentIds);
    expect(await listAgents({ order: 'desc' })).toEqual([...agentIds].reverse());
    expect(await listAgents({ order: 'asc', after: agentIds[1] })).toEqual(agentIds.slice(2));
    expect(await listAgents({ order: 'desc', after: agentIds[3] })).toEqual([agentIds[2], agentIds[1], agentIds[0]]);
    expect(await listAgents({ order: 'asc', before: agentIds[2] })).toEqual(agentIds.slice(0, 2));
    expect(await listAgents({ order: 'asc', after: agentIds[0], before: agentIds[4] })).toEqual(agentIds.slice(1, 4));
  });

  it('pages through the whole list with limit and after, each item once', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await listAgents({ order: 'desc', limit: 2, after });
      if (page.length === 0) break;
      seen.push(...page);
      after = page[page.length - 1];
    }
    expect(seen).toEqual([...agentIds].reverse());
  });

  it('refuses a cursor that names no item of the list, also one of another organization', async () => {
    await expect(listAgents({ order: 'asc', after: newId('agent') })).rejects.toBeInstanceOf(UnknownCursor);
    await expect(agents.list(newId('org'), { limit: 10, order: 'asc', after: agentIds[0] })).rejects.toBeInstanceOf(UnknownCursor);
  });

  it('pages a second list (conversations) the same way', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await conversations.create(organizationId, agentIds[0], {})).id);
    const list = async (page: Omit<PageQuery, 'limit'>) => (await conversations.list(organizationId, agentIds[0], { limit: 10, ...page })).map((c) => c.id);
    // The agent may have conversations of its own already; these three come last.
    const all = await list({ order: 'asc' });
    expect(all.slice(-3)).toEqual(ids);
    expect(await list({ order: 'desc' })).toEqual([...all].reverse());
    expect(await list({ order: 'asc', after: ids[0] })).toEqual(ids.slice(1));
    expect(await list({ order: 'desc', after: ids[2] })).toEqual([...all.slice(0, -1)].reverse());
    await expect(list({ order: 'asc', before: newId('conv') })).rejects.toBeInstanceOf(UnknownCursor);
  });
});
