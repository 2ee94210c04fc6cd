import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { CallbackReceiver, REPO_ROOT, TestStack } from '@lrs/testing';
import { createAgent, getJson, postJson, promptMentioning, sendAsync } from './helpers';

const execFileAsync = promisify(execFile);
const TERMINAL = ['completed', 'failed', 'cancelled'];

interface CallbackBody {
  run_id: string;
  status: string;
  metadata: { result: { messages: { id: string; message_type: string; content?: unknown }[]; usage: { step_count: number } } };
}

/**
 * Invariant 9: the read model never gates a run. The projector is frozen with SIGSTOP (it keeps
 * its connections, as a hung pod would) while runs start, build prompts from their thread, call
 * the model, finish, call back and answer synchronously. After SIGCONT it catches up exactly, and
 * the rebuild command recreates the same tables from the event log.
 */
describe('the read model never gates a run', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let db: Client;
  const callbacks = new Map<string, CallbackBody>();

  beforeAll(async () => {
    // A short ack_wait: while frozen, the projector's unacked deliveries expire again and again,
    // as they would over minutes with the default.
    [stack, receiver] = await Promise.all([TestStack.start({ env: { JETSTREAM_ACK_WAIT_MS: '2000' } }), CallbackReceiver.start()]);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  });
  afterAll(async () => {
    stack?.service('projector').resume();
    await db?.end();
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('runs on several agents complete, call back with their messages and see their thread while the projector is stopped; it catches up after', async () => {
    const agents = await Promise.all([0, 1, 2].map(() => createAgent(stack.baseUrl)));
    const projector = stack.service('projector');
    projector.pause();
    const runIds: string[] = [];
    try {
      for (const round of [1, 2]) {
        const ids = await Promise.all(
          agents.map((agentId, i) => sendAsync(stack.baseUrl, agentId, { input: `fact-${i}-${round} basalt`, callback_url: receiver.url(`/stopped/${i}/${round}`) })),
        );
        runIds.push(...ids);
        await receiver.waitFor(() => agents.every((_, i) => receiver.forPath(`/stopped/${i}/${round}`).length === 1), 30_000);
        for (const [i, runId] of ids.entries()) {
          const body = receiver.forPath(`/stopped/${i}/${round}`)[0].body as CallbackBody;
          callbacks.set(runId, body);
          expect(body).toMatchObject({ run_id: runId, status: 'completed' });
          const messages = body.metadata.result.messages;
          expect(messages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
          expect(messages.map((m) => m.content)).toEqual([`fact-${i}-${round} basalt`, `Echo: fact-${i}-${round} basalt`]);
          // Read your writes: the run reads as ended although its projection has not happened.
          expect(await getJson(stack.baseUrl, `/v1/runs/${runId}`)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
        }
      }
      // Lists show the runs as they are, and filter by that: none of agent 0's is active any more.
      expect(await getJson(stack.baseUrl, `/v1/runs?agent_id=${agents[0]}&active=true`)).toEqual([]);
      const completedRuns = await getJson<{ id: string; status: string }[]>(stack.baseUrl, `/v1/runs?agent_id=${agents[0]}&statuses=completed`);
      expect(completedRuns.map((run) => run.status)).toEqual(['completed', 'completed']);
      // Nothing to cancel or resume either: those routes see the runs ended, as the log has them.
      expect((await postJson(stack.baseUrl, `/v1/agents/${agents[0]}/messages/cancel`, {})).status).toBe(409);
      expect((await postJson(stack.baseUrl, `/v1/conversations/default/cancel?agent_id=${agents[0]}`, {})).status).toBe(409);
      expect((await postJson(stack.baseUrl, `/v1/conversations/default/stream`, { agent_id: agents[0] })).status).toBe(400);
      // Each later run's prompt holds the earlier run's exchange on its agent, and only that agent's.
      for (const i of [0, 1, 2]) {
        const prompt = promptMentioning(stack, `fact-${i}-2`);
        expect(prompt).toContain(`fact-${i}-1 basalt`);
        expect(prompt).toContain(`Echo: fact-${i}-1 basalt`);
        expect(prompt).not.toContain(`fact-${(i + 1) % 3}-1`);
      }
      // The synchronous route answers with what the agent produced.
      const sync = await postJson(stack.baseUrl, `/v1/agents/${agents[0]}/messages`, { input: 'sync while frozen' });
      expect(sync.status).toBe(200);
      expect((sync.body.messages as { message_type: string; content: string }[]).map((m) => [m.message_type, m.content])).toEqual([
        ['assistant_message', 'Echo: sync while frozen'],
      ]);
      expect(promptMentioning(stack, 'sync while frozen')).toContain('fact-0-2 basalt');

      // Several ack-wait periods later, still frozen: a new run is not held up by anything.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      const late = await sendAsync(stack.baseUrl, agents[1], { input: 'late basalt', callback_url: receiver.url('/stopped/late') });
      runIds.push(late);
      await receiver.waitFor(() => receiver.forPath('/stopped/late').length === 1, 20_000);
      callbacks.set(late, receiver.forPath('/stopped/late')[0].body as CallbackBody);
      expect(promptMentioning(stack, 'late basalt')).toContain('Echo: fact-1-2 basalt');

      // The projector really was stopped: the read model still shows these runs as not ended.
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM runs WHERE id = ANY ($1) AND status <> ALL ($2)`, [runIds, TERMINAL]);
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      projector.resume();
    }

    // Caught up exactly: every run ended once, with the messages its callback carried, in order.
    await waitForProjection(db, runIds, 30_000);
    for (const runId of runIds) {
      const { rows: run } = await db.query(`SELECT status, stop_reason, callback_status_code FROM runs WHERE id = $1`, [runId]);
      expect(run).toEqual([{ status: 'completed', stop_reason: 'end_turn', callback_status_code: 200 }]);
      const { rows: messages } = await db.query(`SELECT id FROM messages WHERE run_id = $1 ORDER BY sequence_id`, [runId]);
      expect(messages.map((m) => m.id)).toEqual(callbacks.get(runId)!.metadata.result.messages.map((m) => m.id));
      const { rows: steps } = await db.query(`SELECT status FROM steps WHERE run_id = $1`, [runId]);
      expect(steps).toEqual([{ status: 'success' }]);
      const { rows: attempts } = await db.query(`SELECT attempt, status_code FROM callback_attempts WHERE run_id = $1`, [runId]);
      expect(attempts).toEqual([{ attempt: 1, status_code: 200 }]);
    }
  });

  it('npm run read-model:rebuild recreates the run tables from the log: equal to the live ones', async () => {
    // One more run, deleted, so the rebuild also has a tombstone to reproduce.
    const agentId = await createAgent(stack.baseUrl);
    const deleted = await sendAsync(stack.baseUrl, agentId, { input: 'soon gone', callback_url: receiver.url('/rebuild/deleted') });
    await receiver.waitFor(() => receiver.forPath('/rebuild/deleted').length === 1, 20_000);
    // The callback arriving is not its CallbackAttempted in the log: a delete appended before that
    // would make the projector ignore the attempt (a deleted run shows nothing more), and the wait
    // below would wait for ever on a callback status no event will set. So: projected first.
    await waitForProjection(db, [deleted], 20_000);
    expect((await fetch(`${stack.baseUrl}/v1/runs/${deleted}`, { method: 'DELETE' })).status).toBe(200);
    const { rows: all } = await db.query(`SELECT id FROM runs`);
    await waitForProjection(db, all.map((r) => r.id as string), 20_000);
    // The delete answers once the read model shows it, even when the run's callback attempt was projected just before.
    expect((await db.query(`SELECT deleted_at FROM runs WHERE id = $1`, [deleted])).rows[0].deleted_at).not.toBeNull();

    const live = await snapshot(db);
    expect(live.runs.length).toBeGreaterThan(5);
    // Damage the read model: a lost run row, a wrong step, a lost message, a lost callback attempt.
    await db.query(`DELETE FROM runs WHERE id = (SELECT id FROM runs WHERE deleted_at IS NULL ORDER BY id LIMIT 1)`);
    await db.query(`UPDATE steps SET status = 'failed' WHERE id = (SELECT id FROM steps ORDER BY id LIMIT 1)`);
    await db.query(`DELETE FROM messages WHERE id = (SELECT id FROM messages WHERE run_id IS NOT NULL ORDER BY id LIMIT 1)`);
    await db.query(`DELETE FROM callback_attempts WHERE run_id = (SELECT run_id FROM callback_attempts ORDER BY run_id LIMIT 1)`);
    expect(await snapshot(db)).not.toEqual(live);

    const { stdout } = await execFileAsync(process.execPath, [join(REPO_ROOT, 'dist/tools/read-model-rebuild/src/main.js')], {
      env: { ...process.env, NATS_URL: stack.nats.url, DATABASE_URL: stack.database.url },
    });
    expect(stdout).toMatch(/read model rebuilt from \d+ events/);
    const rebuilt = await snapshot(db);
    // A restored message gets a new place at the end; everything else is as it was.
    expect({ ...rebuilt, messages: sortById(rebuilt.messages) }).toEqual({ ...live, messages: sortById(live.messages) });
    expect(rebuilt.messages.filter((m) => m.run_id === deleted)).toEqual([]);
  });
});

async function waitForProjection(db: Client, runIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM runs WHERE id = ANY ($1) AND (status <> ALL ($2) OR (callback_url IS NOT NULL AND callback_status_code IS NULL))`,
      [runIds, TERMINAL],
    );
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} runs not projected within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Snapshot {
  runs: Record<string, unknown>[];
  steps: Record<string, unknown>[];
  callbackAttempts: Record<string, unknown>[];
  messages: { id: string; run_id: string | null; [column: string]: unknown }[];
}

async function snapshot(db: Client): Promise<Snapshot> {
  const rows = async (sql: string) => (await db.query(sql)).rows;
  return {
    runs: await rows(`SELECT * FROM runs ORDER BY id`),
    steps: await rows(`SELECT * FROM steps ORDER BY id`),
    callbackAttempts: await rows(`SELECT * FROM callback_attempts ORDER BY run_id, attempt`),
    messages: (await rows(`SELECT id, organization_id, agent_id, run_id, lane_id, step_id, message_type, otid, created_at, body FROM messages ORDER BY sequence_id`)) as Snapshot['messages'],
  };
}

function sortById<T extends { id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Overload degrades instead of queueing without bound: past RUN_BACKLOG_LIMIT run events in
 * flight, new runs get 503 with Retry-After and nothing is written; the accepted ones complete.
 */
describe('admission control', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { RUN_BACKLOG_LIMIT: '4', RUN_BACKLOG_CHECK_MS: '50' } });
  });
  afterAll(async () => {
    stack?.service('llm-worker').resume();
    await stack?.stop();
  });

  it('answers 503 with Retry-After past the backlog bound, writes nothing for it, and runs what it accepted', async () => {
    const agents = await Promise.all(Array.from({ length: 12 }, () => createAgent(stack.baseUrl)));
    const worker = stack.service('llm-worker');
    worker.pause();
    const accepted: string[] = [];
    let refused: Response | null = null;
    try {
      for (const agentId of agents) {
        const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/async`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input: 'busy?' }),
        });
        if (response.status === 503) {
          refused = response;
          const { rows } = await queryOnce(stack.database.url, `SELECT count(*)::int AS n FROM runs WHERE agent_id = $1`, [agentId]);
          expect(rows[0].n).toBe(0);
          break;
        }
        expect(response.status).toBe(200);
        accepted.push(((await response.json()) as { id: string }).id);
        // Let the gateway see the backlog grow (it reads it every 50 ms).
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
      expect(refused).not.toBeNull();
      expect(refused!.headers.get('retry-after')).toBe('1');
      expect(await refused!.json()).toEqual({ detail: expect.stringContaining('Retry shortly') });
      expect(accepted.length).toBeGreaterThan(0);
    } finally {
      worker.resume();
    }
    for (const runId of accepted) {
      await expect(pollRunStatus(stack.baseUrl, runId)).resolves.toBe('completed');
    }
  });
});

async function queryOnce(url: string, sql: string, params: unknown[]) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

async function pollRunStatus(baseUrl: string, runId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = await getJson<{ status: string }>(baseUrl, `/v1/runs/${runId}`);
    if (TERMINAL.includes(run.status) || Date.now() > deadline) return run.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
