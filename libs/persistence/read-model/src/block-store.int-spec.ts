import { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore, type MemoryBlockInput } from './agent-store';
import { BlockStore, type BlockListFilter, type NewBlock } from './block-store';
import { BlockValueTooLong, UnknownBlocks } from './agent-blocks';
import { UnknownCursor } from './pagination';

const ORG = 'org-00000000-0000-4000-8000-000000000000';
const OTHER_ORG = 'org-11111111-1111-4111-8111-111111111111';

describe('standalone memory blocks on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;
  let blocks: BlockStore;

  const createAgent = (memoryBlocks: MemoryBlockInput[], blockIds: string[] = [], organizationId = ORG) =>
    agents.create({
      organizationId, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks, blockIds, tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
  const createBlock = (fields: Partial<NewBlock> = {}) => blocks.create({ organizationId: ORG, label: 'notes', value: 'v', ...fields });
  const count = async (sql: string, params: unknown[]) => Number((await dataSource.query(sql, params))[0].n);
  const rowsOf = async (id: string) => ({
    blocks: await count(`SELECT count(*) AS n FROM blocks WHERE id = $1`, [id]),
    attachments: await count(`SELECT count(*) AS n FROM agent_blocks WHERE block_id = $1`, [id]),
    edits: await count(`SELECT count(*) AS n FROM block_edits WHERE block_id = $1`, [id]),
  });
  /** Each test lists only the blocks it made: they carry its own tag. */
  const listed = async (tag: string, filter: Partial<BlockListFilter> = {}) =>
    (await blocks.list(ORG, { limit: 50, order: 'asc', tags: [tag], ...filter })).map((block) => block.label);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    agents = new AgentStore(dataSource);
    blocks = new BlockStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('creates a block attached to no agent, reads it only in its organization, and refuses a value past its limit', async () => {
    const block = await createBlock({ label: 'team', value: 'shared notes', limit: 500, description: 'd', read_only: true, metadata: { k: 1 }, tags: ['x', 'y'] });
    expect(block).toMatchObject({ organizationId: ORG, label: 'team', value: 'shared notes', charLimit: 500, description: 'd', readOnly: true, metadata: { k: 1 }, tags: ['x', 'y'] });
    expect(await blocks.get(ORG, block.id)).toEqual(block);
    expect(await blocks.get(OTHER_ORG, block.id)).toBeNull();
    expect(await rowsOf(block.id)).toEqual({ blocks: 1, attachments: 0, edits: 0 });
    expect((await createBlock({ value: 'x'.repeat(100_000) })).charLimit).toBe(100_000);

    const before = await count(`SELECT count(*) AS n FROM blocks`, []);
    await expect(createBlock({ value: 'x'.repeat(11), limit: 10 })).rejects.toThrow(new BlockValueTooLong(11, 10));
    await expect(createBlock({ value: 'x'.repeat(100_001) })).rejects.toThrow(BlockValueTooLong);
    expect(await count(`SELECT count(*) AS n FROM blocks`, [])).toBe(before);
  });

  it("lists the organization's blocks with Letta's filters", async () => {
    const tag = 'filters';
    const [alpha, beta, gamma] = [
      await createBlock({ label: 'Alpha_1', value: 'Likes 100% cotton', description: 'about the USER', tags: [tag, 'a'] }),
      await createBlock({ label: 'beta', value: 'likes tea', description: null, tags: [tag, 'a', 'b'] }),
      await createBlock({ label: 'gamma', value: 'AlphaX1', description: 'ops', tags: [tag] }),
    ];
    await blocks.create({ organizationId: OTHER_ORG, label: 'beta', value: 'likes tea', tags: [tag] });
    await createAgent([], [alpha.id, beta.id]);
    await createAgent([], [beta.id]);
    expect(gamma.label).toBe('gamma');

    expect(await listed(tag)).toEqual(['Alpha_1', 'beta', 'gamma']);
    expect(await listed(tag, { label: 'beta' })).toEqual(['beta']);
    expect(await listed(tag, { labelSearch: 'ALPHA' })).toEqual(['Alpha_1']);
    // `_` and `%` are literal: as wildcards they would match gamma's 'AlphaX1'.
    expect(await listed(tag, { labelSearch: 'a_1' })).toEqual(['Alpha_1']);
    expect(await listed(tag, { valueSearch: '100%' })).toEqual(['Alpha_1']);
    expect(await listed(tag, { valueSearch: 'alpha_1' })).toEqual([]);
    expect(await listed(tag, { valueSearch: 'alpha%' })).toEqual([]);
    expect(await listed(tag, { valueSearch: 'alphax' })).toEqual(['gamma']);
    expect(await listed(tag, { valueSearch: 'LIKES' })).toEqual(['Alpha_1', 'beta']);
    expect(await listed(tag, { descriptionSearch: 'user' })).toEqual(['Alpha_1']);
    expect(await listed(tag, { tags: ['a', 'b'] })).toEqual(['Alpha_1', 'beta']);
    expect(await listed(tag, { tags: [tag, 'b'], matchAllTags: true })).toEqual(['beta']);
    // Attached to: alpha 1 agent, beta 2, gamma none.
    expect(await listed(tag, { agentCountIn: [0] })).toEqual(['gamma']);
    expect(await listed(tag, { agentCountIn: [0, 2] })).toEqual(['beta', 'gamma']);
    expect(await listed(tag, { agentCountAbove: 0 })).toEqual(['Alpha_1', 'beta']);
    expect(await listed(tag, { agentCountBelow: 2 })).toEqual(['Alpha_1', 'gamma']);
    expect(await listed(tag, { agentCountAbove: 0, agentCountBelow: 2 })).toEqual(['Alpha_1']);
  });

  it('pages with before/after cursors in either order, and refuses a cursor from another organization', async () => {
    const tag = 'paging';
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createBlock({ label: `p${i}`, tags: [tag] }));
    expect(await listed(tag, { limit: 2 })).toEqual(['p0', 'p1']);
    expect(await listed(tag, { limit: 2, after: made[1].id })).toEqual(['p2', 'p3']);
    expect(await listed(tag, { limit: 2, order: 'desc' })).toEqual(['p4', 'p3']);
    expect(await listed(tag, { limit: 2, order: 'desc', after: made[3].id })).toEqual(['p2', 'p1']);
    expect(await listed(tag, { after: made[0].id, before: made[4].id })).toEqual(['p1', 'p2', 'p3']);
    const foreign = await blocks.create({ organizationId: OTHER_ORG, label: 'f', value: 'v' });
    await expect(blocks.list(ORG, { limit: 5, order: 'asc', after: foreign.id })).rejects.toThrow(UnknownCursor);
  });

  it('an update of a block two agents share is one change: both agents see it, the value goes through the ledger', async () => {
    const block = await createBlock({ label: 'team', value: 'Team notes:' });
    const [first, second] = [await createAgent([{ label: 'human', value: 'Ann' }], [block.id]), await createAgent([], [block.id])];
    const updated = await agents.updateBlock(block, { value: 'Team notes: release friday', tags: ['release'], description: 'team' });
    expect(updated).toMatchObject({ id: block.id, value: 'Team notes: release friday', tags: ['release'], description: 'team' });
    for (const agent of [first, second]) {
      expect((await agents.get(ORG, agent.id))!.blocks.find((b) => b.id === block.id)?.value).toBe('Team notes: release friday');
    }
    const ledger: { source: string; version: number }[] = await dataSource.query(`SELECT source, version FROM block_edits WHERE block_id = $1`, [block.id]);
    expect(ledger).toEqual([{ source: 'api', version: 1 }]);
    // Fields not given stay; a value past the limit is refused whole.
    await expect(agents.updateBlock(updated, { value: 'x'.repeat(100_001), tags: ['lost'] })).rejects.toThrow(BlockValueTooLong);
    expect(await blocks.get(ORG, block.id)).toMatchObject({ value: 'Team notes: release friday', tags: ['release'] });
  });

  it('lists the agents a block is attached to, paged, and no others', async () => {
    const block = await createBlock({ label: 'shared' });
    const attached = [];
    for (let i = 0; i < 3; i++) attached.push((await createAgent([], [block.id])).id);
    await createAgent([{ label: 'shared', value: 'another block' }]);
    const agentIds = async (filter: { limit: number; order: 'asc' | 'desc'; after?: string }) =>
      (await agents.list(ORG, { ...filter, blockId: block.id })).map((agent) => agent.id);
    expect(await agentIds({ limit: 10, order: 'asc' })).toEqual(attached);
    expect(await agentIds({ limit: 10, order: 'desc' })).toEqual([...attached].reverse());
    expect(await agentIds({ limit: 1, order: 'asc', after: attached[0] })).toEqual([attached[1]]);
    expect((await agents.list(ORG, { limit: 10, order: 'asc', blockId: block.id }))[0].blocks.map((b) => b.id)).toEqual([block.id]);
  });

  it('deletes a block from every agent at once, its history with it; not another organization\'s', async () => {
    const block = await createBlock({ label: 'team' });
    const [first, second] = [await createAgent([{ label: 'human', value: 'h' }], [block.id]), await createAgent([], [block.id])];
    await agents.updateBlock(block, { value: 'edited' });
    expect(await blocks.delete(OTHER_ORG, block.id)).toBe(false);
    expect(await rowsOf(block.id)).toEqual({ blocks: 1, attachments: 2, edits: 1 });

    expect(await blocks.delete(ORG, block.id)).toBe(true);
    expect(await rowsOf(block.id)).toEqual({ blocks: 0, attachments: 0, edits: 0 });
    expect((await agents.get(ORG, first.id))!.blocks.map((b) => b.label)).toEqual(['human']);
    expect((await agents.get(ORG, second.id))!.blocks).toEqual([]);
    expect(await blocks.delete(ORG, block.id)).toBe(false);
    await expect(agents.attachBlock(ORG, second.id, block.id)).rejects.toThrow(UnknownBlocks);
  });

  it("deleting an agent keeps standalone blocks it had and still deletes its own blocks no other agent has", async () => {
    const standalone = await createBlock({ label: 'kept' });
    const agent = await createAgent([{ label: 'own', value: 'o' }], [standalone.id]);
    const own = agent.blocks.find((b) => b.label === 'own')!;
    expect(await agents.delete(ORG, agent.id)).toBe(true);
    expect(await rowsOf(standalone.id)).toEqual({ blocks: 1, attachments: 0, edits: 0 });
    expect(await rowsOf(own.id)).toMatchObject({ blocks: 0 });
    expect(await agents.delete(ORG, agent.id)).toBe(false);
    expect(await agents.delete(OTHER_ORG, (await createAgent([])).id)).toBe(false);
  });

  it('a block deletion racing agent deletions, renames, edits and attaches of the same block: no deadlock, one consistent outcome', async () => {
    for (let round = 0; round < 8; round++) {
      const block = await createBlock({ label: `race${round}` });
      const owner = await createAgent([{ label: 'own', value: 'o' }], [block.id]);
      const reader = await createAgent([], [block.id]);
      const late = await createAgent([]);
      const outcomes = await Promise.allSettled([
        blocks.delete(ORG, block.id),
        agents.delete(ORG, owner.id),
        agents.updateBlock(block, { label: `renamed${round}`, value: 'edited' }),
        agents.attachBlock(ORG, late.id, block.id),
        agents.editBlocks(ORG, reader.id, [{ id: newId('run'), label: `race${round}`, value: 'x', operation: { kind: 'rethink', newValue: 'x' } }]),
      ]);
      const unexpected = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' && !(outcome.reason instanceof UnknownBlocks) ? [String((outcome.reason as Error).stack ?? outcome.reason)] : [],
      );
      expect(unexpected).toEqual([]);
      expect(outcomes[0]).toEqual({ status: 'fulfilled', value: true });
      expect(await rowsOf(block.id)).toEqual({ blocks: 0, attachments: 0, edits: 0 });
      for (const agent of [reader, late]) expect((await agents.get(ORG, agent.id))!.blocks).toEqual([]);
    }
  });

  it('migrates: blocks made before are blocks of agents, and back', async () => {
    const agent = await createAgent([{ label: 'a', value: '1' }]);
    const executed = async (): Promise<string[]> => (await dataSource.query(`SELECT name FROM migrations ORDER BY id DESC`)).map((row: { name: string }) => row.name);
    while ((await executed()).includes('StandaloneBlocks1732360000000')) await dataSource.undoLastMigration({ transaction: 'each' });
    const columns: { column_name: string }[] = await dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'blocks'`);
    expect(columns.map((c) => c.column_name)).not.toEqual(expect.arrayContaining(['standalone']));
    await dataSource.runMigrations({ transaction: 'each' });
    const [row]: { standalone: boolean; tags: string[] }[] = await dataSource.query(`SELECT standalone, tags FROM blocks WHERE id = $1`, [agent.blocks[0].id]);
    expect(row).toEqual({ standalone: false, tags: [] });
  });
});
