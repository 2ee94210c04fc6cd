import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { startFakeModelServer } from '@lrs/fake-model';
import { freePort, startServices, waitForHttp, type ServiceProcess } from '@lrs/local-stack';
import { createTestDatabase, startTestNats } from '@lrs/testing';

/**
 * Scheduled-message figures on the whole stack (every service a process, the fake model):
 *
 * 1. firing lateness (the run's creation time minus the time it was scheduled for) at a steady
 *    `--per-minute` one-time firings for `--minutes`, spread over 20 agents;
 * 2. what `--pending` schedules far in the future cost a gateway that must ignore them: its RSS
 *    and CPU time while idle, and the due-claim query's plan;
 * 3. the same lateness run again with those schedules pending.
 *
 * Usage: npm run bench:schedules -- --per-minute 1000 --minutes 1 --pending 100000
 */
const AGENTS = 20;
const CREATE_CONCURRENCY = 8;
/** The repository, from dist/tools/schedule-bench/src. */
const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

interface Stack {
  baseUrl: string;
  databaseUrl: string;
  services: ServiceProcess[];
  stop(): Promise<void>;
}

/** A private NATS, a fresh database, the fake model and every service as a process (as the e2e tests' stack). */
async function startStack(env: Record<string, string>): Promise<Stack> {
  const [nats, database, model, port] = await Promise.all([startTestNats(), createTestDatabase(), startFakeModelServer({}), freePort()]);
  const logs: string[] = [];
  const services = startServices({
    repoRoot: REPO_ROOT,
    onLine: (name, line) => logs.push(`[${name}] ${line}`),
    env: { NATS_URL: nats.url, DATABASE_URL: database.url, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench', PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1', ...env },
  });
  const stop = async () => {
    await Promise.allSettled(services.map((service) => service.stop()));
    await Promise.allSettled([model.close(), nats.stop()]);
    await database.drop().catch(() => undefined);
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${baseUrl}/v1/health`, 60_000);
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n${logs.slice(-40).join('\n')}`);
  }
  return { baseUrl, databaseUrl: database.url, services, stop };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'per-minute': { type: 'string', default: '1000' }, minutes: { type: 'string', default: '1' }, pending: { type: 'string', default: '100000' }, 'idle-seconds': { type: 'string', default: '20' } } });
  const perMinute = Number(values['per-minute']);
  const minutes = Number(values.minutes);
  const pending = Number(values.pending);
  const idleSeconds = Number(values['idle-seconds']);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`);
  const stack = await startStack({ MAX_SCHEDULES_PER_AGENT: String(1_000_000), RUN_BACKLOG_LIMIT: '0' });
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const agents: string[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push(await createAgent(stack.baseUrl));
    const gatewayPid = stack.services.find((service) => service.name === 'gateway')!.pid!;

    const idle = async (label: string) => {
      const before = processStats(gatewayPid);
      await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1_000));
      const after = processStats(gatewayPid);
      console.log(`${label}: gateway RSS ${(after.rssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${(((after.cpuSeconds - before.cpuSeconds) / idleSeconds) * 100).toFixed(1)} % of a core while idle for ${idleSeconds} s`);
    };

    await idle('no schedules');
    console.log(await lateness(stack, db, agents, perMinute, minutes, 'no other schedules pending'));

    if (pending > 0) {
      const started = performance.now();
      // Far in the future (a year and more), spread over the agents; written directly, as many clients would over time.
      await db.query(
        `INSERT INTO schedules (id, organization_id, agent_id, kind, scheduled_at, message, fire_at, attempt_at)
         SELECT 'schedule-' || gen_random_uuid(), a.organization_id, a.id, 'one-time', t, '{"messages":[{"role":"user","content":"later"}]}'::jsonb, t, t
         FROM generate_series(1, $1::int) AS n
         JOIN LATERAL (SELECT id, organization_id FROM agents ORDER BY id OFFSET (n % $2::int) LIMIT 1) a ON true
         CROSS JOIN LATERAL (SELECT now() + interval '365 days' + n * interval '1 minute' AS t) times`,
        [pending, AGENTS],
      );
      await db.query('ANALYZE schedules');
      console.log(`${pending} schedules pending (a year and more away), written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM schedules WHERE attempt_at IS NOT NULL AND attempt_at <= now() ORDER BY attempt_at LIMIT 50 FOR UPDATE SKIP LOCKED`);
      console.log(`due-claim query with ${pending} pending:\n  ${plan.rows.map((row) => row['QUERY PLAN']).join('\n  ')}`);
      await idle(`${pending} pending`);
      console.log(await lateness(stack, db, agents, perMinute, minutes, `${pending} other schedules pending`));
    }
  } finally {
    await db.end();
    await stack.stop();
  }
}

/** Creates one-time schedules at a steady rate starting 30 s from now, waits for every firing, and reports lateness. */
async function lateness(stack: Stack, db: Client, agents: string[], perMinute: number, minutes: number, label: string): Promise<string> {
  const count = Math.round(perMinute * minutes);
  const spacingMs = 60_000 / perMinute;
  const first = Date.now() + 30_000;
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const response = await fetch(`${stack.baseUrl}/v1/agents/${agents[i % agents.length]}/schedule`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: `bench ${i}` }], schedule: { type: 'one-time', scheduled_at: Math.round(first + i * spacingMs) } }),
        });
        if (response.status !== 200) throw new Error(`schedule create: ${response.status} ${await response.text()}`);
        ids[i] = ((await response.json()) as { id: string }).id;
      }
    }),
  );
  if (Date.now() > first) console.log(`  (creating the schedules took past the first firing: the first ones fire late)`);
  const deadline = first + minutes * 60_000 + 120_000;
  let fired = 0;
  while (Date.now() < deadline) {
    fired = Number((await db.query(`SELECT count(*) FROM runs WHERE metadata->>'schedule_id' = ANY ($1)`, [ids])).rows[0].count);
    if (fired >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const { rows } = await db.query(
    `SELECT extract(epoch FROM created_at - (metadata->>'scheduled_for')::timestamptz) * 1000 AS late_ms FROM runs WHERE metadata->>'schedule_id' = ANY ($1) ORDER BY 1`,
    [ids],
  );
  const late = rows.map((row) => Number(row.late_ms));
  const at = (q: number) => late[Math.min(late.length - 1, Math.floor(q * late.length))];
  const doubled = Number((await db.query(`SELECT count(*) FROM (SELECT metadata->>'schedule_id' FROM runs WHERE metadata->>'schedule_id' = ANY ($1) GROUP BY 1 HAVING count(*) > 1) d`, [ids])).rows[0].count);
  return `${label}: ${late.length}/${count} firings at ${perMinute}/min, lateness p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${late[late.length - 1]?.toFixed(0)} ms; schedules with more than one run: ${doubled}`;
}

async function createAgent(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/agents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', model: 'openai/gpt-4o-mini' }) });
  if (response.status !== 200) throw new Error(`agent create: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

/** RSS and CPU time (user + system) of a process, from /proc. */
function processStats(pid: number): { rssBytes: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rssKb * 1024, cpuSeconds: ticks / 100 };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
