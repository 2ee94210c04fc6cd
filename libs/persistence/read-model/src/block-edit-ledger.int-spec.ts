import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { newId, type BlockEditOperation, type LettaMessage, type MemoryEdit } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore } from './agent-store';
import { StepRecords, type StepRecord } from './step-records';
import type { AgentSnapshot } from './agent-snapshot';

const ORG = 'org-00000000-0000-4000-8000-000000000000';

/**
 * Memory edits on a real Postgres: every writer of a block keeps its change whatever the order of
 * commits, and a step's edits are exactly those of the outcome last written for it.
 */
describe('block edit ledger on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;
  let records: StepRecords;

  const createAgent = (blocks: { label: string; value: string; limit?: number }[], blockIds: string[] = []) =>
    agents.create({
      organizationId: ORG, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks: blocks, blockIds, tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
  const valueOf = async (agentId: string, label: string) => (await agents.get(ORG, agentId))!.blocks.find((block) => block.label === label)!.value;

  /** A step's record with one tool call per edit, as the llm-worker writes it. */
  const stepRecord = (agent: AgentSnapshot, stepId: string, runId: string, operations: { label: string; operation: BlockEditOperation }[]): StepRecord => {
    const edits: MemoryEdit[] = operations.map(({ label, operation }) => ({ id: randomUUID(), label, toolCallId: `call_${randomUUID()}`, operation, value: '(as the step saw it)' }));
    const messages = edits.map(
      (edit) =>
        ({
          id: newId('message'), message_type: 'tool_return_message', date: new Date().toISOString(), run_id: runId, step_id: stepId, otid: randomUUID(),
          tool_return: 'Inserted text into memory block.', status: 'success', tool_call_id: edit.toolCallId, stdout: null, stderr: null,
          tool_returns: [{ type: 'tool', tool_call_id: edit.toolCallId, tool_return: 'Inserted text into memory block.', status: 'success', stdout: null, stderr: null }],
        }) as unknown as LettaMessage,
    );
    return { owner: { organizationId: ORG, agentId: agent.id, laneId: agent.id, runId }, stepId, input: [], messages, memoryEdits: edits };
  };
  const insertLine = (label: string, newStr: string) => ({ label, operation: { kind: 'insert' as const, newStr, insertLine: -1 } });
  const stepRows = async (stepId: string) => (await dataSource.query(`SELECT body FROM messages WHERE step_id = $1`, [stepId])).map((row: { body: LettaMessage }) => row.body);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url, poolSize: 12 }).initialize();
    agents = new AgentStore(dataSource);
    records = new StepRecords(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('two agents sharing a block insert into it at once, many rounds: every line is kept, each change a version', async () => {
    const first = await createAgent([{ label: 'team', value: 'Team notes:', limit: 10_000 }]);
    const second = await createAgent([], [first.blocks[0].id]);
    const writes = Array.from({ length: 40 }, (_, round) => {
      const agent = round % 2 === 0 ? first : second;
      return records.write(stepRecord(agent, newId('step'), newId('run'), [insertLine('team', `from-${agent === first ? 'A' : 'B'}-${round}`)]));
    });
    const written = await Promise.all(writes);
    const lines = (await valueOf(second.id, 'team')).split('\n');
    expect(lines[0]).toBe('Team notes:');
    expect(lines.slice(1).sort()).toEqual(Array.from({ length: 40 }, (_, round) => `from-${round % 2 === 0 ? 'A' : 'B'}-${round}`).sort());
    // Each write tells the version and value its edit made; versions follow the order of the commits.
    const versions = written.map((step) => step.memoryEdits[0].version!);
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
    const last = written.find((step) => step.memoryEdits[0].version === 40)!;
    expect(last.memoryEdits[0].value).toBe(lines.join('\n'));
    const [{ version }] = await dataSource.query(`SELECT version FROM blocks WHERE id = $1`, [first.blocks[0].id]);
    expect(version).toBe(40);
  });

  it("an API edit made while a step runs is kept when the step's insert commits, and a PATCH of other fields keeps a step's edit", async () => {
    const agent = await createAgent([{ label: 'human', value: 'Name: Sam' }]);
    const seenByStep = agent.blocks[0];
    await agents.updateBlock(seenByStep, { value: 'Name: Sam\nLikes: tea' });
    await records.write(stepRecord(agent, newId('step'), newId('run'), [insertLine('human', 'Allergic to nuts')]));
    expect(await valueOf(agent.id, 'human')).toBe('Name: Sam\nLikes: tea\nAllergic to nuts');

    // A description change from a snapshot taken before the edit does not write that snapshot's value back.
    await agents.updateBlock(seenByStep, { description: 'about the human' });
    const after = (await agents.get(ORG, agent.id))!.blocks[0];
    expect(after).toMatchObject({ value: 'Name: Sam\nLikes: tea\nAllergic to nuts', description: 'about the human' });
  });

  it("a replace whose text another writer removed meanwhile is refused at commit: the tool call answers the error and nothing changes", async () => {
    const agent = await createAgent([{ label: 'human', value: 'Name: Sam' }]);
    await agents.updateBlock(agent.blocks[0], { value: 'Name: Ann' });
    const stepId = newId('step');
    const record = stepRecord(agent, stepId, newId('run'), [{ label: 'human', operation: { kind: 'replace', oldStr: 'Name: Sam', newStr: 'Name: Samira' } }, insertLine('human', 'ok')]);
    const written = await records.write(record);
    expect(await valueOf(agent.id, 'human')).toBe('Name: Ann\nok');
    expect(written.memoryEdits.map((edit) => edit.id)).toEqual([record.memoryEdits[1].id]);
    expect(written.messages[0]).toMatchObject({ status: 'error', tool_return: expect.stringContaining('another writer changed the block meanwhile') });
    expect(written.messages[1]).toMatchObject({ status: 'success' });
    expect((await stepRows(stepId)).map((message: { status: string }) => message.status).sort()).toEqual(['error', 'success']);
  });

  it('the same outcome written twice applies its edits once', async () => {
    const agent = await createAgent([{ label: 'team', value: 'notes' }]);
    const record = stepRecord(agent, newId('step'), newId('run'), [insertLine('team', 'once')]);
    await records.write(record);
    const again = await records.write(record);
    expect(await valueOf(agent.id, 'team')).toBe('notes\nonce');
    expect(again.memoryEdits).toEqual([expect.objectContaining({ id: record.memoryEdits[0].id, value: 'notes\nonce', version: 1 })]);
  });

  it("a second attempt of a step replaces the first attempt's edits (it died before its append), keeping other writers' changes", async () => {
    const agent = await createAgent([{ label: 'team', value: 'notes' }]);
    const other = await createAgent([], [agent.blocks[0].id]);
    const stepId = newId('step');
    const runId = newId('run');
    const firstAttempt = stepRecord(agent, stepId, runId, [insertLine('team', 'attempt one')]);
    await records.write(firstAttempt);
    await records.write(stepRecord(other, newId('step'), newId('run'), [insertLine('team', 'other agent')]));
    const secondAttempt = stepRecord(agent, stepId, runId, [insertLine('team', 'attempt two')]);
    await records.write(secondAttempt);
    expect(await valueOf(agent.id, 'team')).toBe('notes\nother agent\nattempt two');
    expect(await stepRows(stepId)).toEqual([expect.objectContaining({ id: secondAttempt.messages[0].id })]);

    // The first attempt's append won after all: the log's outcome is written (its edit applied again,
    // now, after the other agent's) and the second's edit goes.
    await records.write({ ...firstAttempt, fromLog: true });
    expect(await valueOf(agent.id, 'team')).toBe('notes\nother agent\nattempt one');

    // A second attempt with no edits at all still takes the first's back.
    await records.write({ ...stepRecord(agent, stepId, runId, []), messages: [] });
    expect(await valueOf(agent.id, 'team')).toBe('notes\nother agent');
  });

  it("a step whose append lost (a cancel) is discarded: its messages and edits go, later edits of others stay", async () => {
    const agent = await createAgent([{ label: 'team', value: 'notes' }]);
    const other = await createAgent([], [agent.blocks[0].id]);
    const stepId = newId('step');
    const runId = newId('run');
    await records.write(stepRecord(agent, stepId, runId, [insertLine('team', 'cancelled step'), insertLine('team', 'second line')]));
    await records.write(stepRecord(other, newId('step'), newId('run'), [insertLine('team', 'later')]));
    await records.discard({ organizationId: ORG, agentId: agent.id, laneId: agent.id, runId }, stepId);
    expect(await valueOf(agent.id, 'team')).toBe('notes\nlater');
    expect(await stepRows(stepId)).toEqual([]);
    const edits: { revert_reason: string | null; reverted: boolean }[] = await dataSource.query(
      `SELECT revert_reason, reverted_at IS NOT NULL AS reverted FROM block_edits WHERE step_id = $1`,
      [stepId],
    );
    expect(edits).toEqual([
      { reverted: true, revert_reason: 'the step that made it did not commit this outcome' },
      { reverted: true, revert_reason: 'the step that made it did not commit this outcome' },
    ]);
    // Discarding again changes nothing.
    await records.discard({ organizationId: ORG, agentId: agent.id, laneId: agent.id, runId }, stepId);
    expect(await valueOf(agent.id, 'team')).toBe('notes\nlater');
  });

  it('writers of two shared blocks in opposite orders do not deadlock', async () => {
    const first = await createAgent([{ label: 'a', value: '', limit: 10_000 }, { label: 'b', value: '', limit: 10_000 }]);
    const second = await createAgent([], [first.blocks[1].id, first.blocks[0].id]);
    await Promise.all(
      Array.from({ length: 20 }, (_, round) =>
        round % 2 === 0
          ? records.write(stepRecord(first, newId('step'), newId('run'), [insertLine('a', `x${round}`), insertLine('b', `x${round}`)]))
          : records.write(stepRecord(second, newId('step'), newId('run'), [insertLine('b', `y${round}`), insertLine('a', `y${round}`)])),
      ),
    );
    expect((await valueOf(first.id, 'a')).split('\n')).toHaveLength(20);
    expect((await valueOf(first.id, 'b')).split('\n')).toHaveLength(20);
  });

  it("another organization's block is out of reach even by id", async () => {
    const agent = await createAgent([{ label: 'team', value: 'mine' }]);
    const stranger = { ...agent.blocks[0], organizationId: 'org-11111111-1111-4111-8111-111111111111' };
    await expect(agents.updateBlock(stranger, { value: 'theirs' })).rejects.toThrow(/not found/);
    expect(await valueOf(agent.id, 'team')).toBe('mine');
  });
});
