import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { CallbackReceiver, TestStack } from '@lrs/testing';
import type { ServiceProcess } from '@lrs/local-stack';
import { createAgent, getJson, lettaClient, postJson, waitUntil } from './helpers';

/**
 * Scheduled messages (docs/scheduling.md) through the official client, on a stack with two
 * processes of every service (two gateway workers, which both fire schedules). Cron patterns take
 * a seconds field here (SCHEDULE_CRON_SECONDS, for tests only) so recurring firings come every
 * second or two instead of every minute.
 */
const MAX_PER_AGENT = 40;
const OTHER_ORGANIZATION = 'org-99999999-9999-4999-8999-999999999999';

interface FiringRun {
  id: string;
  scheduled_for: string;
  created_at: Date;
}

describe('scheduled messages', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let db: Client;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([
      TestStack.start({ env: { SCHEDULE_CRON_SECONDS: 'true', GATEWAY_WORKERS: '2', MAX_SCHEDULES_PER_AGENT: String(MAX_PER_AGENT), JETSTREAM_ACK_WAIT_MS: '2000' } }),
      CallbackReceiver.start(),
    ]);
    for (const name of ['projector', 'orchestrator', 'llm-worker', 'callback-dispatcher'] as const) stack.startReplica(name);
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  /** The runs the schedule's firings made, as the read model has them. */
  async function runsOf(scheduleId: string): Promise<FiringRun[]> {
    const { rows } = await db.query(`SELECT id, metadata->>'scheduled_for' AS scheduled_for, created_at FROM runs WHERE metadata->>'schedule_id' = $1 ORDER BY metadata->>'scheduled_for'`, [scheduleId]);
    return rows as FiringRun[];
  }

  async function scheduleCount(): Promise<number> {
    return Number((await db.query(`SELECT count(*) FROM schedules`)).rows[0].count);
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const message = (text: string) => [{ role: 'user' as const, content: text }];

  it('refuses bad input with 422 and a detail, stores nothing, and bounds schedules per agent', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const before = await scheduleCount();
    const future = { type: 'one-time', scheduled_at: Date.now() + 3_600_000 };
    const bad: [unknown, string][] = [
      [{ messages: message('x'), schedule: { type: 'recurring', cron_expression: 'not a cron' } }, 'cron_expression does not parse'],
      [{ messages: message('x'), schedule: { type: 'recurring', cron_expression: '61 * * * *' } }, 'minute'],
      [{ messages: message('x'), schedule: { type: 'recurring', cron_expression: '0 0 30 2 *' } }, 'never fires'],
      [{ messages: message('x'), schedule: { type: 'one-time', scheduled_at: 'tomorrow' } }, 'scheduled_at must be a Unix time'],
      [{ messages: message('x'), schedule: { type: 'one-time', scheduled_at: Date.now() - 3_600_000 } }, 'in the past'],
      [{ messages: message('x'), schedule: { type: 'hourly' } }, 'schedule.type'],
      [{ messages: message('x') }, 'schedule'],
      [{ messages: [], schedule: future }, 'messages must not be empty'],
      [{ schedule: future }, 'messages'],
      [{ messages: [{ role: 'wizard', content: 'x' }], schedule: future }, 'role'],
      [{ messages: [{ type: 'approval', approvals: [] }], schedule: future }, 'must be a message'],
      [{ messages: message('x'), schedule: future, callback_url: 'not a url' }, 'callback_url'],
      [{ messages: message('x'), schedule: future, callback_url: 'ftp://example.com/hook' }, 'callback_url'],
      [{ messages: message('x'), schedule: future, max_steps: 0 }, 'max_steps'],
    ];
    for (const [body, detail] of bad) {
      const response = await postJson(stack.baseUrl, `/v1/agents/${agentId}/schedule`, body);
      expect({ body, status: response.status, detail: response.body.detail }).toEqual({ body, status: 422, detail: expect.stringContaining(detail) });
    }
    expect(await scheduleCount()).toBe(before);
    const missing = await postJson(stack.baseUrl, `/v1/agents/agent-00000000-0000-4000-8000-000000000000/schedule`, { messages: message('x'), schedule: future });
    expect(missing.status).toBe(404);

    // The limit: MAX_PER_AGENT schedules, then 422; deleting one makes room.
    const client = lettaClient(stack);
    const ids: string[] = [];
    for (let i = 0; i < MAX_PER_AGENT; i++) ids.push((await client.agents.schedule.create(agentId, { messages: message(`far ${i}`), schedule: { type: 'one-time', scheduled_at: Date.now() + 86_400_000 } })).id);
    const over = await postJson(stack.baseUrl, `/v1/agents/${agentId}/schedule`, { messages: message('x'), schedule: future });
    expect(over.status).toBe(422);
    expect(over.body.detail).toContain('MAX_SCHEDULES_PER_AGENT');
    await client.agents.schedule.delete(ids[0], { agent_id: agentId });
    await client.agents.schedule.create(agentId, { messages: message('one more'), schedule: future as { type: 'one-time'; scheduled_at: number } });

    // Paging: oldest first, `after` a schedule id.
    const first = await client.agents.schedule.list(agentId, { limit: '15' });
    expect(first.scheduled_messages).toHaveLength(15);
    expect(first.has_next_page).toBe(true);
    const rest = await client.agents.schedule.list(agentId, { limit: '100', after: first.scheduled_messages[14].id });
    expect(rest.has_next_page).toBe(false);
    expect([...first.scheduled_messages, ...rest.scheduled_messages].map((s) => s.id)).toEqual([...ids.slice(1), expect.any(String)]);
    await fetch(`${stack.baseUrl}/v1/agents/${agentId}`, { method: 'DELETE' });
  });

  it("answers 404 for another organization's schedules and agents", async () => {
    const agentId = await createAgent(stack.baseUrl);
    const client = lettaClient(stack);
    const { id } = await client.agents.schedule.create(agentId, { messages: message('x'), schedule: { type: 'one-time', scheduled_at: Date.now() + 3_600_000 } });
    expect((await client.agents.schedule.retrieve(id, { agent_id: agentId })).id).toBe(id);
    await db.query(`UPDATE agents SET organization_id = $1 WHERE id = $2`, [OTHER_ORGANIZATION, agentId]);
    await db.query(`UPDATE schedules SET organization_id = $1 WHERE id = $2`, [OTHER_ORGANIZATION, id]);
    for (const [method, path] of [
      ['GET', `/v1/agents/${agentId}/schedule/${id}`],
      ['DELETE', `/v1/agents/${agentId}/schedule/${id}`],
      ['GET', `/v1/agents/${agentId}/schedule`],
    ]) {
      const response = await fetch(`${stack.baseUrl}${path}`, { method });
      expect({ path, method, status: response.status }).toEqual({ path, method, status: 404 });
    }
    expect(await scheduleCount()).toBeGreaterThan(0);
    expect((await db.query(`SELECT 1 FROM schedules WHERE id = $1`, [id])).rowCount).toBe(1);
  });

  it('a one-time schedule fires once, within 2 s of its time, with its callback, and then has no next time', async () => {
    const client = lettaClient(stack);
    const agentId = await createAgent(stack.baseUrl);
    const scheduledAt = Date.now() + 2_500;
    const created = await client.agents.schedule.create(agentId, {
      messages: message('scheduled hello'),
      schedule: { type: 'one-time', scheduled_at: scheduledAt },
      callback_url: receiver.url('/one-time'),
      max_steps: 3,
    });
    expect(created.next_scheduled_at).toBe(new Date(scheduledAt).toISOString());
    const pending = await client.agents.schedule.retrieve(created.id, { agent_id: agentId });
    expect(pending).toMatchObject({ id: created.id, agent_id: agentId, next_scheduled_time: new Date(scheduledAt).toISOString(), schedule: { type: 'one-time', scheduled_at: scheduledAt } });
    expect(pending.message).toMatchObject({ messages: [{ role: 'user', content: 'scheduled hello' }], callback_url: receiver.url('/one-time'), max_steps: 3 });

    await waitUntil(() => receiver.received.some((callback) => callback.path === '/one-time'), 20_000);
    const [run] = await runsOf(created.id);
    expect(run.scheduled_for).toBe(new Date(scheduledAt).toISOString());
    expect(new Date(run.created_at).getTime() - scheduledAt).toBeLessThan(2_000);
    expect(new Date(run.created_at).getTime()).toBeGreaterThanOrEqual(scheduledAt);
    const view = await client.runs.retrieve(run.id);
    expect(view).toMatchObject({ status: 'completed', agent_id: agentId, metadata: { schedule_id: created.id, scheduled_for: new Date(scheduledAt).toISOString() } });

    await sleep(2_000);
    expect((await runsOf(created.id)).length).toBe(1);
    expect(receiver.received.filter((callback) => callback.path === '/one-time')).toHaveLength(1);
    const done = await client.agents.schedule.retrieve(created.id, { agent_id: agentId });
    expect(done).toMatchObject({ next_scheduled_time: null, last_run_id: run.id, fired_count: 1, skipped_count: 0, last_error: null });
  });

  it('a recurring schedule fires at each of its times, one run each, and stops when deleted', async () => {
    const client = lettaClient(stack);
    const agentId = await createAgent(stack.baseUrl);
    const created = await client.agents.schedule.create(agentId, { messages: message('every two seconds'), schedule: { type: 'recurring', cron_expression: '*/2 * * * * *' } });
    expect(new Date(created.next_scheduled_at!).getTime() % 2_000).toBe(0);
    await waitUntil(async () => (await runsOf(created.id)).length >= 3, 20_000);
    await client.agents.schedule.delete(created.id, { agent_id: agentId });
    const atDelete = await runsOf(created.id);
    const times = atDelete.map((run) => Date.parse(run.scheduled_for));
    // One run per firing, at consecutive times of the pattern: nothing doubled, nothing skipped.
    expect(new Set(times).size).toBe(times.length);
    times.forEach((time, i) => {
      expect(time % 2_000).toBe(0);
      if (i > 0) expect(time - times[i - 1]).toBe(2_000);
    });
    await sleep(4_500);
    expect((await runsOf(created.id)).length).toBe(atDelete.length);
    await expect(client.agents.schedule.retrieve(created.id, { agent_id: agentId })).rejects.toMatchObject({ status: 404 });
  });

  it('a standard 5-field pattern is due at its next minute (UTC)', async () => {
    const client = lettaClient(stack);
    const agentId = await createAgent(stack.baseUrl);
    const created = await client.agents.schedule.create(agentId, { messages: message('x'), schedule: { type: 'recurring', cron_expression: '30 4 * * *' } });
    const next = new Date(created.next_scheduled_at!);
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([4, 30, 0]);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    const listed = await client.agents.schedule.list(agentId);
    expect(listed.scheduled_messages.map((s) => [s.id, s.schedule, s.next_scheduled_time])).toEqual([[created.id, { type: 'recurring', cron_expression: '30 4 * * *' }, next.toISOString()]]);
  });

  it('a deleted schedule never fires; deleting the agent deletes its schedules', async () => {
    const client = lettaClient(stack);
    const agentId = await createAgent(stack.baseUrl);
    const oneTime = await client.agents.schedule.create(agentId, { messages: message('never'), schedule: { type: 'one-time', scheduled_at: Date.now() + 1_500 } });
    await client.agents.schedule.delete(oneTime.id, { agent_id: agentId });
    const recurring = await client.agents.schedule.create(agentId, { messages: message('each second'), schedule: { type: 'recurring', cron_expression: '* * * * * *' } });
    await waitUntil(async () => (await runsOf(recurring.id)).length >= 1, 10_000);
    const deleted = await fetch(`${stack.baseUrl}/v1/agents/${agentId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect((await db.query(`SELECT count(*) FROM schedules WHERE agent_id = $1`, [agentId])).rows[0].count).toBe('0');
    const afterDelete = (await db.query(`SELECT count(*) FROM runs WHERE metadata->>'schedule_id' = $1`, [recurring.id])).rows[0].count;
    await sleep(3_000);
    expect((await runsOf(oneTime.id)).length).toBe(0);
    expect((await db.query(`SELECT count(*) FROM runs WHERE metadata->>'schedule_id' = $1`, [recurring.id])).rows[0].count).toBe(afterDelete);
  });

  it('with two processes of every service, 60 firings due at one moment make exactly one run each', async () => {
    const client = lettaClient(stack);
    const agents = await Promise.all([0, 1, 2].map(() => createAgent(stack.baseUrl)));
    const at = Date.now() + 3_000;
    const ids = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => (await client.agents.schedule.create(agents[i % 3], { messages: message(`crowd ${i}`), schedule: { type: 'one-time', scheduled_at: at } })).id),
    );
    await waitUntil(async () => Number((await db.query(`SELECT count(*) FROM runs WHERE metadata->>'schedule_id' = ANY ($1)`, [ids])).rows[0].count) >= 60, 30_000);
    await sleep(2_000);
    const { rows } = await db.query(`SELECT metadata->>'schedule_id' AS schedule_id, count(*)::int AS runs FROM runs WHERE metadata->>'schedule_id' = ANY ($1) GROUP BY 1`, [ids]);
    expect(rows.length).toBe(60);
    expect(rows.filter((row) => row.runs !== 1)).toEqual([]);
    const fired = (await db.query(`SELECT fired_count, fire_at FROM schedules WHERE id = ANY ($1)`, [ids])).rows;
    expect(fired.every((row) => row.fired_count === 1 && row.fire_at === null)).toBe(true);
    // Every run finishes like any async run.
    await waitUntil(async () => Number((await db.query(`SELECT count(*) FROM runs WHERE metadata->>'schedule_id' = ANY ($1) AND status = 'completed'`, [ids])).rows[0].count) === 60, 60_000);
  });

  it('every process SIGKILLed as schedules fire and while one is due: once back, each firing makes exactly one run', async () => {
    const client = lettaClient(stack);
    const agents = await Promise.all([0, 1].map(() => createAgent(stack.baseUrl)));
    const at = Date.now() + 3_000;
    const crowd = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => (await client.agents.schedule.create(agents[i % 2], { messages: message(`killed ${i}`), schedule: { type: 'one-time', scheduled_at: at } })).id),
    );
    // Due while everything is down.
    const missed = (await client.agents.schedule.create(agents[0], { messages: message('missed'), schedule: { type: 'one-time', scheduled_at: at + 2_000 } })).id;
    const recurring = (await client.agents.schedule.create(agents[1], { messages: message('every second'), schedule: { type: 'recurring', cron_expression: '* * * * * *' } })).id;

    // Kill everything as the crowd starts firing (some firings made, some in flight, some not begun).
    await waitUntil(async () => (await db.query(`SELECT 1 FROM runs WHERE metadata->>'schedule_id' = ANY ($1) LIMIT 1`, [crowd])).rowCount === 1, 15_000);
    const processes: ServiceProcess[] = [...stack.services.values(), ...stack.replicas];
    const gatewayWorkers = childrenOf(stack.service('gateway').pid!);
    for (const pid of gatewayWorkers) process.kill(pid, 'SIGKILL');
    await Promise.all(processes.map((service) => service.crash()));
    const downAt = Date.now();
    await sleep(Math.max(0, at + 5_000 - Date.now()));
    const restartAt = Date.now();
    for (const service of processes) service.start();
    await waitUntil(async () => (await fetch(`${stack.baseUrl}/v1/health`).catch(() => null))?.status === 200, 60_000);

    const all = [...crowd, missed];
    await waitUntil(async () => Number((await db.query(`SELECT count(DISTINCT metadata->>'schedule_id') FROM runs WHERE metadata->>'schedule_id' = ANY ($1)`, [all])).rows[0].count) === all.length, 30_000);
    await sleep(2_000);
    const { rows } = await db.query(`SELECT metadata->>'schedule_id' AS schedule_id, count(*)::int AS runs FROM runs WHERE metadata->>'schedule_id' = ANY ($1) GROUP BY 1`, [all]);
    expect(rows.filter((row) => row.runs !== 1)).toEqual([]);
    expect(rows.length).toBe(all.length);
    expect((await db.query(`SELECT count(*) FROM schedules WHERE id = ANY ($1) AND (fired_count <> 1 OR fire_at IS NOT NULL)`, [all])).rows[0].count).toBe('0');

    // The recurring schedule missed several seconds while down: it fired once for the latest missed time, skipped the rest, and goes on.
    await waitUntil(async () => (await runsOf(recurring)).some((run) => Date.parse(run.scheduled_for) > restartAt), 20_000);
    const times = (await runsOf(recurring)).map((run) => Date.parse(run.scheduled_for));
    expect(new Set(times).size).toBe(times.length);
    // A firing in flight at the kill may have made its run (due before downAt + 1 s); none of the seconds after was fired late.
    expect(times.filter((time) => time >= downAt + 1_000 && time < restartAt)).toEqual([]);
    const view = await getJson<{ skipped_count: number }>(stack.baseUrl, `/v1/agents/${agents[1]}/schedule/${recurring}`);
    expect(view.skipped_count).toBeGreaterThan(0);
    await client.agents.schedule.delete(recurring, { agent_id: agents[1] });
  }, 120_000);
});

/** Child processes of `pid` (the gateway's cluster workers). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    return [];
  }
}
