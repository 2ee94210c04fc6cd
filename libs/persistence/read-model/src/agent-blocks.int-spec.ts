import { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore, type MemoryBlockInput } from './agent-store';
import { BlockLabelTaken, TooManyBlocks, UnknownBlocks } from './agent-blocks';

const ORG = 'org-00000000-0000-4000-8000-000000000000';

describe('shared memory blocks on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;

  const create = (memoryBlocks: MemoryBlockInput[], blockIds: string[] = []) =>
    agents.create({
      organizationId: ORG, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks, blockIds, tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
  const labels = async (agentId: string) => (await agents.get(ORG, agentId))!.blocks.map((block) => `${block.label}=${block.value}`);
  const blockCount = async (id: string) => Number((await dataSource.query(`SELECT count(*) AS n FROM blocks WHERE id = $1`, [id]))[0].n);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    agents = new AgentStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('shares a block given at creation: an edit through one agent is what the other sees, after its own blocks come in order', async () => {
    const first = await create([{ label: 'team', value: 'shared' }, { label: 'human', value: 'ann' }]);
    const team = first.blocks.find((block) => block.label === 'team')!;
    const second = await create([{ label: 'persona', value: 'me' }], [team.id]);
    // Letta puts attached blocks before the agent's own.
    expect(await labels(second.id)).toEqual(['team=shared', 'persona=me']);
    expect(await labels(first.id)).toEqual(['team=shared', 'human=ann']);

    await agents.editBlocks(ORG, second.id, [{ id: 'edit-1', label: 'team', value: 'edited by second', operation: { kind: 'rethink', newValue: 'edited by second' } }]);
    expect(await labels(first.id)).toEqual(['team=edited by second', 'human=ann']);
    // Listing loads each agent's blocks, the shared one for both.
    const listed = await agents.list(ORG, { limit: 10, order: 'asc' });
    expect(listed.filter((agent) => [first.id, second.id].includes(agent.id)).map((agent) => agent.blocks.map((block) => block.id).includes(team.id))).toEqual([true, true]);
  });

  it('refuses a second block with a label an agent already has, on create, attach and rename', async () => {
    const owner = await create([{ label: 'human', value: 'x' }, { label: 'notes', value: 'n' }]);
    const other = await create([{ label: 'human', value: 'y' }]);
    const human = owner.blocks.find((block) => block.label === 'human')!;
    const notes = owner.blocks.find((block) => block.label === 'notes')!;

    await expect(create([{ label: 'human', value: 'z' }], [human.id])).rejects.toThrow(new BlockLabelTaken('human'));
    await expect(agents.attachBlock(ORG, other.id, human.id)).rejects.toThrow(BlockLabelTaken);
    expect(await labels(other.id)).toEqual(['human=y']);

    // Renaming a shared block must fit every agent it is attached to.
    await agents.attachBlock(ORG, other.id, notes.id);
    await expect(agents.updateBlock(notes, { label: 'human' })).rejects.toThrow(new BlockLabelTaken('human'));
    expect(await labels(owner.id)).toEqual(['human=x', 'notes=n']);
    await agents.updateBlock((await agents.get(ORG, owner.id))!.blocks[1], { label: 'journal' });
    expect(await labels(other.id)).toEqual(['human=y', 'journal=n']);
  });

  it('a rename racing an attach of the same label to a shared agent: one wins, the other is a label clash', async () => {
    for (let round = 0; round < 5; round++) {
      const owner = await create([{ label: 'notes', value: 'n' }]);
      const reader = await create([], [owner.blocks[0].id]);
      const human = (await create([{ label: 'human', value: 'h' }])).blocks[0];
      const outcomes = await Promise.allSettled([agents.updateBlock(owner.blocks[0], { label: 'human' }), agents.attachBlock(ORG, reader.id, human.id)]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({ reason: new BlockLabelTaken('human') });
      expect((await labels(reader.id)).filter((label) => label.startsWith('human='))).toHaveLength(1);
    }
  });

  it('attaches idempotently, detaches only what is attached, and names unknown blocks', async () => {
    const owner = await create([{ label: 'team', value: 't' }]);
    const other = await create([]);
    const team = owner.blocks[0];
    await agents.attachBlock(ORG, other.id, team.id);
    await agents.attachBlock(ORG, other.id, team.id);
    expect(await labels(other.id)).toEqual(['team=t']);

    const missing = newId('block');
    await expect(agents.attachBlock(ORG, other.id, missing)).rejects.toThrow(new UnknownBlocks([missing]));
    await expect(create([], [missing])).rejects.toThrow(UnknownBlocks);
    expect(await agents.attachBlock(ORG, newId('agent'), team.id)).toBeNull();

    await agents.detachBlock(ORG, other.id, team.id);
    expect(await labels(other.id)).toEqual([]);
    await expect(agents.detachBlock(ORG, other.id, team.id)).rejects.toThrow(UnknownBlocks);
    // Detached everywhere but the owner; still there to attach again.
    await agents.attachBlock(ORG, other.id, team.id);
    expect(await labels(other.id)).toEqual(['team=t']);
  });

  it('refuses an attach past the most blocks an agent may have, and changes nothing then', async () => {
    const owner = await create([{ label: 'a', value: '1' }, { label: 'b', value: '2' }]);
    const other = await create([{ label: 'own', value: 'x' }]);
    await agents.attachBlock(ORG, other.id, owner.blocks[0].id, 2);
    await expect(agents.attachBlock(ORG, other.id, owner.blocks[1].id, 2)).rejects.toThrow(TooManyBlocks);
    expect(await labels(other.id)).toEqual(['own=x', 'a=1']);
  });

  it('replaces the blocks on update: detached ones stay for their other agents, new ones come after the rest', async () => {
    const owner = await create([{ label: 'team', value: 't' }, { label: 'ops', value: 'o' }]);
    const [team, ops] = owner.blocks;
    const other = await create([{ label: 'human', value: 'h' }, { label: 'scratch', value: 's' }]);
    const [human, scratch] = other.blocks;
    const updated = await agents.update(ORG, other.id, { blockIds: [ops.id, human.id, team.id] });
    expect(updated!.blocks.map((block) => block.label)).toEqual(['human', 'ops', 'team']);
    expect(await blockCount(scratch.id)).toBe(1);
    await expect(agents.update(ORG, other.id, { blockIds: [newId('block')] })).rejects.toThrow(UnknownBlocks);
    // A refused update changes nothing.
    expect(await labels(other.id)).toEqual(['human=h', 'ops=o', 'team=t']);
  });

  it('deletes the blocks only a deleted agent had and keeps those others share', async () => {
    const owner = await create([{ label: 'team', value: 't' }, { label: 'private', value: 'p' }]);
    const [team, own] = owner.blocks;
    const other = await create([], [team.id]);
    expect(await agents.delete(ORG, owner.id)).toBe(true);
    expect(await blockCount(own.id)).toBe(0);
    expect(await blockCount(team.id)).toBe(1);
    expect(await labels(other.id)).toEqual(['team=t']);
    expect(await agents.delete(ORG, owner.id)).toBe(false);
  });

  it('an attach racing the deletion of the only agent with the block either keeps it or reports it gone', async () => {
    for (let round = 0; round < 5; round++) {
      const owner = await create([{ label: 'team', value: 't' }]);
      const other = await create([]);
      const [attached, deleted] = await Promise.allSettled([agents.attachBlock(ORG, other.id, owner.blocks[0].id), agents.delete(ORG, owner.id)]);
      expect(deleted).toEqual({ status: 'fulfilled', value: true });
      if (attached.status === 'fulfilled') expect(await labels(other.id)).toEqual(['team=t']);
      else expect(attached.reason).toBeInstanceOf(UnknownBlocks);
      expect(await blockCount(owner.blocks[0].id)).toBe(attached.status === 'fulfilled' ? 1 : 0);
    }
  });

  it('migrates one-agent blocks to attachments and back', async () => {
    const agent = await create([{ label: 'a', value: '1' }, { label: 'b', value: '2' }]);
    // Undo the migrations that came after this one first, then this one.
    const executed = async (): Promise<string[]> => (await dataSource.query(`SELECT name FROM migrations ORDER BY id DESC`)).map((row: { name: string }) => row.name);
    while ((await executed()).includes('SharedBlocks1732290000000')) await dataSource.undoLastMigration({ transaction: 'each' });
    const columns: { column_name: string }[] = await dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'blocks'`);
    expect(columns.map((c) => c.column_name)).toEqual(expect.arrayContaining(['agent_id', 'position']));
    const old: { label: string; agent_id: string; position: number }[] = await dataSource.query(`SELECT label, agent_id, position FROM blocks WHERE agent_id = $1 ORDER BY position`, [agent.id]);
    expect(old).toEqual([{ label: 'a', agent_id: agent.id, position: 0 }, { label: 'b', agent_id: agent.id, position: 1 }]);

    await dataSource.runMigrations({ transaction: 'each' });
    expect(await labels(agent.id)).toEqual(['a=1', 'b=2']);
  });
});
