import { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { AgentStore } from './agent-store';
import { createReadModelDataSource, runReadModelMigrations } from './data-source';

/** The run path's hot statements as prepared statements (named-statements.ts), on a real Postgres. */
describe('named statements on a real Postgres', () => {
  let database: TestDatabase;
  const ORG = newId('org');

  beforeAll(async () => {
    database = await createTestDatabase();
    await runReadModelMigrations(database.url);
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** One connection, so the session that prepared a statement is the one asked about it. */
  async function withOneConnection<T>(preparedStatements: boolean, work: (dataSource: DataSource, agents: AgentStore) => Promise<T>): Promise<T> {
    const dataSource = await createReadModelDataSource({ url: database.url, poolSize: 1, preparedStatements }).initialize();
    try {
      return await work(dataSource, new AgentStore(dataSource));
    } finally {
      await dataSource.destroy();
    }
  }
  const createAgent = (agents: AgentStore) =>
    agents.create({
      organizationId: ORG, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks: [{ label: 'human', value: 'Ada' }], tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
  const prepared = async (dataSource: DataSource) =>
    ((await dataSource.query(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'lrs\\_%'`)) as { name: string }[]).map((row) => row.name);

  it('prepares the agent snapshot once per connection and answers the same as before', async () => {
    await withOneConnection(true, async (dataSource, agents) => {
      const agent = await createAgent(agents);
      const first = await agents.get(ORG, agent.id);
      const again = await agents.get(ORG, agent.id);
      expect(first).toMatchObject({ id: agent.id, name: 'a', blocks: [expect.objectContaining({ label: 'human', value: 'Ada' })] });
      expect(again).toEqual(first);
      expect(await prepared(dataSource)).toHaveLength(1);
      expect(await agents.get(newId('org'), agent.id)).toBeNull();
    });
  });

  it('sends them unnamed when prepared statements are off (a pooler in transaction mode)', async () => {
    await withOneConnection(false, async (dataSource, agents) => {
      const agent = await createAgent(agents);
      expect(await agents.get(ORG, agent.id)).toMatchObject({ id: agent.id });
      expect(await prepared(dataSource)).toEqual([]);
    });
  });

  it('keeps answering after a migration adds a column to a table a prepared statement reads', async () => {
    await withOneConnection(true, async (dataSource, agents) => {
      const agent = await createAgent(agents);
      expect(await agents.get(ORG, agent.id)).toMatchObject({ id: agent.id });
      // Another connection, as a migration job would.
      const other = await createReadModelDataSource({ url: database.url, poolSize: 1 }).initialize();
      try {
        await other.query('ALTER TABLE agents ADD COLUMN added_later integer');
        expect(await agents.get(ORG, agent.id)).toMatchObject({ id: agent.id, name: 'a' });
      } finally {
        await other.query('ALTER TABLE agents DROP COLUMN IF EXISTS added_later');
        await other.destroy();
      }
      expect(await agents.get(ORG, agent.id)).toMatchObject({ id: agent.id });
    });
  });
});
