import { DataSource } from 'typeorm';
import { buildRunEvent, newId, type LettaMessage } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { messageTokens } from '@lrs/domain-run';
import { createReadModelDataSource } from './data-source';
import { AgentStore } from './agent-store';
import { ConversationStore } from './conversation-store';
import { ThreadContextStore, type ThreadRef } from './thread-context-store';
import { insertOwnedMessages } from './pg-values';
import { RunProjection } from './run-projection';

const ORG = 'org-00000000-0000-4000-8000-000000000000';

function text(type: 'user_message' | 'assistant_message', content: string, runId: string | null): LettaMessage {
  return { id: newId('message'), date: '2026-01-01T00:00:00+00:00', name: null, message_type: type, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: runId, content };
}

describe('ThreadContextStore on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let contexts: ThreadContextStore;
  let thread: ThreadRef;

  /** A run of the thread with a user message and a reply, as its steps leave them. */
  async function run(status: 'completed' | 'running', say: string, laneId = thread.laneId): Promise<string> {
    const runId = newId('run');
    await dataSource.query(
      `INSERT INTO runs (id, organization_id, agent_id, conversation_id, lane_id, status, background, metadata, request_config, created_at, max_steps, input, version, last_stream_seq)
       VALUES ($1, $2, $3, $4, $5, $6, true, '{}', '{}', now(), 10, '[]', 1, 1)`,
      [runId, ORG, thread.agentId, laneId === thread.agentId ? null : laneId, laneId, status],
    );
    for (const message of [text('user_message', say, runId), text('assistant_message', `re: ${say}`, runId)]) {
      await dataSource.query(
        `INSERT INTO messages (id, organization_id, agent_id, run_id, lane_id, message_type, created_at, body) VALUES ($1, $2, $3, $4, $5, $6, now(), $7)`,
        [message.id, ORG, thread.agentId, runId, laneId, message.message_type, JSON.stringify(message)],
      );
    }
    return runId;
  }
  const finish = (runId: string) => dataSource.query(`UPDATE runs SET status = 'completed' WHERE id = $1`, [runId]);
  const said = async (runId: string | null = null, of: Pick<ThreadRef, 'agentId' | 'laneId'> = thread, inProgress: string | null = null) =>
    (await contexts.messages(of, runId ? { runId } : { inProgress })).map((m) => m.body as { content: string }).map((b) => b.content);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    contexts = new ThreadContextStore(dataSource);
  });
  beforeEach(async () => {
    const agent = await new AgentStore(dataSource).create({
      organizationId: ORG, name: 't', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null,
      llmConfig: {}, memoryBlocks: [], tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
    thread = { organizationId: ORG, agentId: agent.id, laneId: agent.id };
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('a reset waits for a projection batch restoring the thread, and deletes what the batch put back', async () => {
    const runId = await run('completed', 'restored by the projector');
    const [input] = ((await dataSource.query(`SELECT body FROM messages WHERE run_id = $1 AND message_type = 'user_message'`, [runId])) as { body: LettaMessage }[]).map((row) => row.body);
    await dataSource.query(`UPDATE runs SET input = $2 WHERE id = $1`, [runId, JSON.stringify([input])]);
    await dataSource.query(`DELETE FROM messages WHERE run_id = $1`, [runId]);
    const started = buildRunEvent({ runId, seq: 2, organizationId: ORG, agentId: thread.agentId, laneId: thread.laneId }, 'RunStarted', { startedAt: new Date().toISOString(), maxSteps: 10 });

    let commitBatch!: () => void;
    const batchMayCommit = new Promise<void>((resolve) => (commitBatch = resolve));
    let restored!: () => void;
    const batchRestored = new Promise<void>((resolve) => (restored = resolve));
    const batch = dataSource.transaction(async (manager) => {
      expect(await new RunProjection(dataSource).applyIn(manager, [{ event: started, streamSeq: 2 }])).toEqual(['applied']);
      restored();
      await batchMayCommit;
    });
    await batchRestored;
    let resetDone = false;
    const reset = contexts.reset(thread).then(() => (resetDone = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resetDone).toBe(false);
    commitBatch();
    await Promise.all([batch, reset]);
    expect(await dataSource.query(`SELECT id FROM messages WHERE lane_id = $1`, [thread.laneId])).toEqual([]);

    // The other way round: a batch that comes after the reset restores nothing of what it deleted.
    await dataSource.query(`UPDATE runs SET version = 1 WHERE id = $1`, [runId]);
    expect(await new RunProjection(dataSource).apply([{ event: started, streamSeq: 2 }])).toEqual(['applied']);
    expect(await dataSource.query(`SELECT id FROM messages WHERE lane_id = $1`, [thread.laneId])).toEqual([]);
  });

  it("shows finished runs' messages, and the run in progress only to itself", async () => {
    await run('completed', 'one');
    const running = await run('running', 'two');
    expect(await said(null, thread, running)).toEqual(['one', 're: one']);
    expect(await said(running)).toEqual(['one', 're: one', 'two', 're: two']);
  });

  it('gives each message its prompt tokens: stored when written, counted on read for rows stored without', async () => {
    const runId = await run('completed', 'counted on read, as rows from before the column');
    const written = text('user_message', 'a summary written through the store, which counts it', null);
    await contexts.compact(thread, written, [], 0);
    const [stored] = await dataSource.query(`SELECT token_count FROM messages WHERE id = $1`, [written.id]);
    expect(stored.token_count).toBe(messageTokens(written));
    const context = await contexts.messages(thread, { runId });
    expect(context.length).toBeGreaterThan(1);
    for (const message of context) expect(message.tokens).toBe(messageTokens(message.body));
  });

  it('reset deletes what the thread said so far but not a run that began meanwhile', async () => {
    await run('completed', 'old');
    const concurrent = await run('running', 'new');
    await contexts.reset(thread, concurrent);
    expect(await said(concurrent)).toEqual(['new', 're: new']);
    await finish(concurrent);
    expect(await said()).toEqual(['new', 're: new']);
    const left: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM messages WHERE agent_id = $1`, [thread.agentId]);
    expect(Number(left[0].n)).toBe(2);
  });

  it('the projector does not restore what a reset deleted, but restores what a later run said', async () => {
    const before = text('user_message', 'said before the reset', newId('run'));
    const owner = (message: LettaMessage) => ({ owner: { organizationId: ORG, agentId: thread.agentId, runId: message.run_id, laneId: thread.laneId }, message });
    const dated = (message: LettaMessage, date: Date) => ({ ...message, date: date.toISOString() });
    const earlier = dated(before, new Date(Date.now() - 60_000));
    await insertOwnedMessages(dataSource.manager, [owner(earlier)]);
    await contexts.reset(thread);
    // The projector catches up with the earlier run after the reset: its rows stay deleted.
    await insertOwnedMessages(dataSource.manager, [owner(earlier)], { countTokens: false, exceptReset: true });
    expect(await said()).toEqual([]);
    // A run after the reset whose rows the run path did not write: the projector restores them.
    const later = dated(text('user_message', 'said after the reset', newId('run')), new Date(Date.now() + 1_000));
    await insertOwnedMessages(dataSource.manager, [owner(later)], { countTokens: false, exceptReset: true });
    const rows: { id: string }[] = await dataSource.query(`SELECT id FROM messages WHERE agent_id = $1`, [thread.agentId]);
    expect(rows.map((row) => row.id)).toEqual([later.id]);
  });

  it('compaction replaces what the summariser read, and keeps a run that ended after it read', async () => {
    await run('completed', 'a');
    await run('completed', 'b');
    const read = await contexts.messages(thread);
    await run('completed', 'c');
    const summary = text('user_message', 'SUMMARY of a', null);
    const keep = read.slice(2).map((m) => m.id);
    await contexts.compact(thread, summary, keep, Math.max(...read.map((m) => m.sequenceId)));
    expect(await said()).toEqual(['SUMMARY of a', 'b', 're: b', 'c', 're: c']);
    const history: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM messages WHERE agent_id = $1`, [thread.agentId]);
    expect(Number(history[0].n)).toBe(7);
  });

  it('a fork starts from the inherited messages and adds its own; deleting it leaves the source alone', async () => {
    await run('completed', 'shared');
    const conversations = new ConversationStore(dataSource);
    const inherited = (await contexts.messages(thread)).map((m) => m.id);
    const fork = await conversations.create(ORG, thread.agentId, { inheritedMessageIds: inherited, hidden: true });
    const forkThread = { organizationId: ORG, agentId: thread.agentId, laneId: fork.id };
    await run('completed', 'only in fork', fork.id);
    expect(await said(null, forkThread)).toEqual(['shared', 're: shared', 'only in fork', 're: only in fork']);
    expect(await said()).toEqual(['shared', 're: shared']);
    expect((await conversations.list(ORG, thread.agentId, { limit: 10, order: 'desc', before: null, after: null })).map((c) => c.id)).not.toContain(fork.id);
    expect(await conversations.delete(ORG, fork.id)).toBe(true);
    expect(await conversations.delete(ORG, fork.id)).toBe(false);
    expect(await said()).toEqual(['shared', 're: shared']);
    const contextRows: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM thread_contexts WHERE lane_id = $1`, [fork.id]);
    expect(Number(contextRows[0].n)).toBe(0);
  });
});
