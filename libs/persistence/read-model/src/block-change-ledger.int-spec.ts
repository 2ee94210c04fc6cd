import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { newId, type BlockChange, type BlockChangeOperation, type LettaMessage, type MemoryEdit } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore } from './agent-store';
import { StepRecords, type StepRecord } from './step-records';
import type { AgentSnapshot } from './agent-snapshot';

const ORG = 'org-00000000-0000-4000-8000-000000000000';

/**
 * Blocks a step creates, deletes (detaches) and renames, on a real Postgres: each change lands
 * once however often its step is written, and goes when the step's outcome is not the log's.
 */
describe('block change ledger on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;
  let records: StepRecords;

  const createAgent = (blocks: { label: string; value: string }[], blockIds: string[] = []) =>
    agents.create({
      organizationId: ORG, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks: blocks, blockIds, tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
  const blocksOf = async (agentId: string) => (await agents.get(ORG, agentId))!.blocks.map((block) => ({ label: block.label, value: block.value, description: block.description }));
  const labelsOf = async (agentId: string) => (await blocksOf(agentId)).map((block) => block.label);
  const blockRows = async (id: string) => dataSource.query(`SELECT id, label FROM blocks WHERE id = $1`, [id]);

  /** A step's record with one tool call per change (and edits after them), as the llm-worker writes it. */
  const stepRecord = (agent: AgentSnapshot, stepId: string, runId: string, operations: BlockChangeOperation[], edits: MemoryEdit[] = []): StepRecord => {
    const changes: BlockChange[] = operations.map((operation) => ({ id: randomUUID(), toolCallId: `call_${randomUUID()}`, operation }));
    const messages = changes.map(
      (change) =>
        ({
          id: newId('message'), message_type: 'tool_return_message', date: new Date().toISOString(), run_id: runId, step_id: stepId, otid: randomUUID(),
          tool_return: 'Successfully changed.', status: 'success', tool_call_id: change.toolCallId, stdout: null, stderr: null,
          tool_returns: [{ type: 'tool', tool_call_id: change.toolCallId, tool_return: 'Successfully changed.', status: 'success', stdout: null, stderr: null }],
        }) as unknown as LettaMessage,
    );
    return { owner: { organizationId: ORG, agentId: agent.id, laneId: agent.id, runId }, stepId, input: [], messages, memoryEdits: edits, blockChanges: changes };
  };
  const create = (label: string, value: string): BlockChangeOperation => ({ kind: 'create', blockId: newId('block'), label, value, description: `about ${label}`, limit: 1000 });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url, poolSize: 4 }).initialize();
    agents = new AgentStore(dataSource);
    records = new StepRecords(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('create: written twice it is one block; a later attempt replaces it; a discard removes it', async () => {
    const agent = await createAgent([{ label: 'human', value: 'Name: Sam' }]);
    const stepId = newId('step');
    const runId = newId('run');
    const first = create('notes', 'first attempt');
    const record = stepRecord(agent, stepId, runId, [first]);
    const written = await records.write(record);
    expect(written.blockChanges).toEqual(record.blockChanges);
    await records.write(record);
    expect(await blocksOf(agent.id)).toEqual([
      { label: 'human', value: 'Name: Sam', description: null },
      { label: 'notes', value: 'first attempt', description: 'about notes' },
    ]);
    // The worker died after its write; the redelivered step created its own block.
    const second = create('notes', 'second attempt');
    await records.write(stepRecord(agent, stepId, runId, [second]));
    expect(await blocksOf(agent.id)).toEqual([expect.objectContaining({ label: 'human' }), { label: 'notes', value: 'second attempt', description: 'about notes' }]);
    expect(await blockRows(first.blockId)).toEqual([]);
    // The append lost (a cancel): the block goes.
    await records.discard(record.owner, stepId);
    expect(await labelsOf(agent.id)).toEqual(['human']);
    expect(await blockRows(second.blockId)).toEqual([]);
  });

  it("an edit of a block the step created commits after it; the edit's rows go with the block", async () => {
    const agent = await createAgent([]);
    const stepId = newId('step');
    const made = create('projects/alpha', 'Kickoff');
    const edit: MemoryEdit = { id: randomUUID(), label: 'projects/alpha', blockId: made.blockId, operation: { kind: 'insert', newStr: 'Budget', insertLine: -1 }, value: '' };
    const record = stepRecord(agent, stepId, newId('run'), [made], [edit]);
    const written = await records.write(record);
    expect(written.memoryEdits).toEqual([expect.objectContaining({ blockId: made.blockId, value: 'Kickoff\nBudget', version: 1 })]);
    await records.write(record);
    expect(await blocksOf(agent.id)).toEqual([{ label: 'projects/alpha', value: 'Kickoff\nBudget', description: 'about projects/alpha' }]);
    await records.discard(record.owner, stepId);
    expect(await blocksOf(agent.id)).toEqual([]);
    expect(await dataSource.query(`SELECT 1 FROM block_edits WHERE edit_id = $1`, [edit.id])).toEqual([]);
  });

  it("a create whose label another writer took meanwhile is refused: its tool call answers the error, nothing is created", async () => {
    const agent = await createAgent([{ label: 'notes', value: 'by the API' }]);
    const record = stepRecord(agent, newId('step'), newId('run'), [create('notes', 'by the step')]);
    const written = await records.write(record);
    expect(written.blockChanges).toEqual([]);
    expect(written.messages[0]).toMatchObject({ status: 'error', tool_return: expect.stringContaining("'notes' already exists") });
    expect(await blocksOf(agent.id)).toEqual([{ label: 'notes', value: 'by the API', description: null }]);
  });

  it('delete detaches the block from this agent only; written again nothing more happens; taken back it is attached where it was', async () => {
    const agent = await createAgent([{ label: 'human', value: 'h' }, { label: 'team', value: 't' }, { label: 'persona', value: 'p' }]);
    const team = agent.blocks.find((block) => block.label === 'team')!;
    const other = await createAgent([], [team.id]);
    const stepId = newId('step');
    const record = stepRecord(agent, stepId, newId('run'), [{ kind: 'delete', blockId: team.id, label: 'team' }]);
    await records.write(record);
    await records.write(record);
    expect(await labelsOf(agent.id)).toEqual(['human', 'persona']);
    expect(await labelsOf(other.id)).toEqual(['team']);
    // A later attempt that did not delete it: it is back, in its place.
    await records.write(stepRecord(agent, stepId, record.owner.runId, []));
    expect(await labelsOf(agent.id)).toEqual(['human', 'team', 'persona']);
    await records.write(record);
    expect(await labelsOf(agent.id)).toEqual(['human', 'persona']);
    await records.discard(record.owner, stepId);
    expect(await labelsOf(agent.id)).toEqual(['human', 'team', 'persona']);
    expect(await blocksOf(agent.id)).toContainEqual({ label: 'team', value: 't', description: null });
  });

  it('rename changes the label on every agent that has the block, once; taken back it is the old label again', async () => {
    const agent = await createAgent([{ label: 'team', value: 't' }]);
    const team = agent.blocks[0];
    const other = await createAgent([], [team.id]);
    const stepId = newId('step');
    const record = stepRecord(agent, stepId, newId('run'), [{ kind: 'rename', blockId: team.id, label: 'team', newLabel: 'crew' }]);
    await records.write(record);
    await records.write(record);
    expect([await labelsOf(agent.id), await labelsOf(other.id)]).toEqual([['crew'], ['crew']]);
    await records.discard(record.owner, stepId);
    expect([await labelsOf(agent.id), await labelsOf(other.id)]).toEqual([['team'], ['team']]);
    // A rename to a label another agent of the block has is refused at commit.
    await createAgent([{ label: 'crew', value: 'x' }]).then((third) => agents.attachBlock(ORG, third.id, team.id));
    const refused = await records.write(stepRecord(agent, newId('step'), newId('run'), [{ kind: 'rename', blockId: team.id, label: 'team', newLabel: 'crew' }]));
    expect(refused.messages[0]).toMatchObject({ status: 'error', tool_return: expect.stringContaining("already has a block labelled 'crew'") });
    expect(await labelsOf(agent.id)).toEqual(['team']);
  });

  it('describe sets the description once; a later attempt without it, or a discard, puts the old one back', async () => {
    const agent = await createAgent([{ label: 'human', value: 'h' }]);
    const human = agent.blocks[0];
    const stepId = newId('step');
    const record = stepRecord(agent, stepId, newId('run'), [{ kind: 'describe', blockId: human.id, label: 'human', description: 'The user' }]);
    await records.write(record);
    await records.write(record);
    expect((await blocksOf(agent.id))[0].description).toBe('The user');
    await records.write(stepRecord(agent, stepId, record.owner.runId, []));
    expect((await blocksOf(agent.id))[0].description).toBeNull();
    await records.write(record);
    await records.discard(record.owner, stepId);
    expect((await blocksOf(agent.id))[0].description).toBeNull();
  });

  it('several changes of one step are taken back newest first: create, rename, delete', async () => {
    const agent = await createAgent([{ label: 'human', value: 'h' }]);
    const stepId = newId('step');
    const made = create('draft', 'd');
    const record = stepRecord(agent, stepId, newId('run'), [
      made,
      { kind: 'rename', blockId: made.blockId, label: 'draft', newLabel: 'final' },
      { kind: 'delete', blockId: agent.blocks[0].id, label: 'human' },
    ]);
    await records.write(record);
    expect(await labelsOf(agent.id)).toEqual(['final']);
    await records.discard(record.owner, stepId);
    expect(await labelsOf(agent.id)).toEqual(['human']);
    expect(await blockRows(made.blockId)).toEqual([]);
  });

  it("a redelivered step takes back its earlier attempt's changes before it runs, so its tools see the blocks as the log has them", async () => {
    const agent = await createAgent([]);
    const stepId = newId('step');
    const record = stepRecord(agent, stepId, newId('run'), [create('notes', 'first attempt')]);
    await records.write(record);
    expect(await records.takeBackBlockChanges(record.owner, stepId)).toBe(true);
    expect(await labelsOf(agent.id)).toEqual([]);
    expect(await records.takeBackBlockChanges(record.owner, stepId)).toBe(false);
    // The earlier attempt's outcome won the append after all: written from the log, its block is back, once.
    await records.write({ ...record, fromLog: true });
    await records.write({ ...record, fromLog: true });
    expect(await blocksOf(agent.id)).toEqual([{ label: 'notes', value: 'first attempt', description: 'about notes' }]);
  });
});
