import { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { planFiring, scheduleRunId } from '@lrs/scheduling';
import { createReadModelDataSource } from '@lrs/read-model';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { ScheduleStore, type FiringResult, type ScheduleRecord } from './schedule-store';

const ORG = 'org-00000000-0000-4000-8000-000000000000';
const OTHER_ORG = 'org-99999999-9999-4999-8999-999999999999';
const DAY = 86_400_000;

/**
 * The schedules table on a real Postgres: claims that replicas share without doubling, a firing
 * that dies before its commit is claimed again for the same run, deletes that wait for a firing,
 * the per-agent limit, organization scoping, and the agent's delete taking its schedules along.
 */
describe('schedule store on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: ScheduleStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url, poolSize: 6 }).initialize();
    store = new ScheduleStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  async function agent(organizationId = ORG): Promise<string> {
    const id = newId('agent');
    await dataSource.query(`INSERT INTO agents (id, organization_id, name, system, agent_type, llm_config) VALUES ($1, $2, 'a', 's', 'letta_v1_agent', '{}')`, [id, organizationId]);
    return id;
  }

  async function oneTime(agentId: string, at: Date, max = 100): Promise<ScheduleRecord> {
    const outcome = await store.create({ id: newId('schedule'), organizationId: ORG, agentId, spec: { type: 'one-time', scheduledAt: at.getTime() }, message: { messages: [{ role: 'user', content: 'x' }] }, firstFireAt: at, max });
    if (!('created' in outcome)) throw new Error(JSON.stringify(outcome));
    return outcome.created;
  }

  /** Fires as the firer does, recording each run id it would append ("the log"). */
  const fireInto = (log: string[], now: Date) => async (due: ScheduleRecord[]): Promise<FiringResult[]> =>
    due.map((schedule) => {
      const plan = planFiring(schedule.spec, schedule.fireAt!, now, DAY);
      const runId = scheduleRunId(schedule.id, plan.fireFor!);
      log.push(runId);
      return { id: schedule.id, fireAt: plan.next, attemptAt: plan.next, fired: { at: plan.fireFor!, runId }, skipped: plan.skipped, error: null };
    });

  it('two claimers at once share the due schedules without taking one twice', async () => {
    const agentId = await agent();
    const due = new Date(Date.now() - 1_000);
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add((await oneTime(agentId, due)).id);
    const logs: string[][] = [[], []];
    const now = new Date();
    // Each claimer holds its batch while the other claims: SKIP LOCKED hands the other the rest.
    const slow = (log: string[]) => async (batch: ScheduleRecord[]) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return fireInto(log, now)(batch);
    };
    const rounds = async (log: string[]) => {
      while ((await store.claimDue(now, 7, slow(log))) > 0);
    };
    await Promise.all([rounds(logs[0]), rounds(logs[1])]);
    const all = [...logs[0], ...logs[1]];
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
    expect(logs[0].length).toBeGreaterThan(0);
    expect(logs[1].length).toBeGreaterThan(0);
    const rows = await dataSource.query(`SELECT fired_count, fire_at, attempt_at FROM schedules WHERE agent_id = $1`, [agentId]);
    expect(rows.every((row: { fired_count: number; fire_at: null; attempt_at: null }) => row.fired_count === 1 && row.fire_at === null && row.attempt_at === null)).toBe(true);
  });

  it('a firing that dies before its commit is claimed again and names the same run', async () => {
    const agentId = await agent();
    const schedule = await oneTime(agentId, new Date(Date.now() - 500));
    const now = new Date();
    const log: string[] = [];
    await expect(
      store.claimDue(now, 10, async (due) => {
        await fireInto(log, now)(due);
        throw new Error('killed after the append, before the commit');
      }),
    ).rejects.toThrow('killed');
    expect((await store.find(ORG, agentId, schedule.id))!.fireAt).toEqual(schedule.fireAt);
    // Another replica, later: same firing, same run id (the append would collide).
    await store.claimDue(new Date(now.getTime() + 5_000), 10, fireInto(log, new Date(now.getTime() + 5_000)));
    expect(log).toHaveLength(2);
    expect(log[1]).toBe(log[0]);
    expect(await store.find(ORG, agentId, schedule.id)).toMatchObject({ fireAt: null, firedCount: 1, lastRunId: log[0] });
  });

  it('a delete waits for a firing in progress; after it, the schedule is never claimed', async () => {
    const agentId = await agent();
    const schedule = await oneTime(agentId, new Date(Date.now() - 500));
    let release!: () => void;
    let claimed!: () => void;
    const holding = new Promise<void>((resolve) => (claimed = resolve));
    const firing = store.claimDue(new Date(), 10, async (due) => {
      claimed();
      await new Promise<void>((resolve) => (release = resolve));
      return due.map((s) => ({ id: s.id, fireAt: null, attemptAt: null, fired: null, skipped: 0, error: null }));
    });
    await holding;
    let deleted = false;
    const deletion = store.delete(ORG, agentId, schedule.id).then((found) => (deleted = found));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(deleted).toBe(false);
    release();
    await firing;
    await deletion;
    expect(deleted).toBe(true);
    expect(await store.claimDue(new Date(Date.now() + DAY), 10, async () => [])).toBe(0);
  });

  it('bounds schedules per agent; one-time schedules that are done make room', async () => {
    const agentId = await agent();
    const far = new Date(Date.now() + DAY);
    for (let i = 0; i < 3; i++) await oneTime(agentId, far, 3);
    await expect(store.create({ id: newId('schedule'), organizationId: ORG, agentId, spec: { type: 'one-time', scheduledAt: far.getTime() }, message: { messages: [] }, firstFireAt: far, max: 3 })).resolves.toEqual({ full: 3 });
    const [first] = (await store.list(ORG, agentId, null, 10)).items;
    await dataSource.query(`UPDATE schedules SET fire_at = NULL, attempt_at = NULL WHERE id = $1`, [first.id]);
    await oneTime(agentId, far, 3);
    expect(await store.find(ORG, agentId, first.id)).toBeNull();
  });

  it("scopes reads and deletes to the organization; the agent's delete deletes its schedules", async () => {
    const agentId = await agent();
    const schedule = await oneTime(agentId, new Date(Date.now() + DAY));
    expect(await store.find(OTHER_ORG, agentId, schedule.id)).toBeNull();
    expect((await store.list(OTHER_ORG, agentId, null, 10)).items).toEqual([]);
    expect(await store.delete(OTHER_ORG, agentId, schedule.id)).toBe(false);
    expect(await store.create({ id: newId('schedule'), organizationId: OTHER_ORG, agentId, spec: { type: 'one-time', scheduledAt: Date.now() + DAY }, message: { messages: [] }, firstFireAt: new Date(Date.now() + DAY), max: 10 })).toEqual({ agentNotFound: true });
    await dataSource.query(`DELETE FROM agents WHERE id = $1`, [agentId]);
    expect(await store.find(ORG, agentId, schedule.id)).toBeNull();
  });

  it('pages oldest first from a schedule id', async () => {
    const agentId = await agent();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await oneTime(agentId, new Date(Date.now() + DAY))).id);
    const first = await store.list(ORG, agentId, null, 2);
    const second = await store.list(ORG, agentId, first.items[1].id, 2);
    const third = await store.list(ORG, agentId, second.items[1].id, 2);
    expect([first.hasNextPage, second.hasNextPage, third.hasNextPage]).toEqual([true, true, false]);
    expect([...first.items, ...second.items, ...third.items].map((s) => s.id)).toEqual(created);
  });
});
