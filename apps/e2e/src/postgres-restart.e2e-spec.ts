import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDatabase, freePort } from '@lrs/local-stack';
import { runReadModelMigrations } from '@lrs/read-model';
import { CallbackReceiver, REPO_ROOT, TestStack } from '@lrs/testing';
import { createAgent, getJson, sendAsync } from './helpers';

const RUNS_PER_AGENT = 6;
const AGENTS = 8;

/**
 * Postgres restarted while runs are in flight: every accepted run still ends exactly once, with
 * one callback, in order per agent. The stack gets a Postgres server of its own (embedded), so
 * restarting it disturbs no other test.
 */
/** An embedded Postgres in a process of its own; resolves with its admin URL once it is ready. */
function startPostgres(dataDir: string, port: number): Promise<{ process: ChildProcess; adminUrl: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/libs/local-stack/src/postgres-server-main.js'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('ready ')) resolve({ process: child, adminUrl: line.slice('ready '.length) });
    });
    child.once('exit', (code) => reject(new Error(`embedded Postgres exited (${code}): ${lines.join('\n')}`)));
  });
}

async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

describe('Postgres restarted under load', () => {
  let postgres: ChildProcess;
  let dataDir: string;
  let port: number;
  let stack: TestStack;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lrs-pg-restart-'));
    port = await freePort();
    const started = await startPostgres(join(dataDir, 'pg'), port);
    postgres = started.process;
    const url = await ensureDatabase(started.adminUrl, 'letta');
    await runReadModelMigrations(url);
    [stack, receiver] = await Promise.all([
      // The model answers slowly enough that the restart lands while steps are in flight.
      TestStack.start({ database: { url, name: 'letta', drop: async () => undefined }, env: { JETSTREAM_ACK_WAIT_MS: '5000' } }),
      CallbackReceiver.start(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
    if (postgres) await stopPostgres(postgres);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every accepted run ends once, calls back once and keeps its agent order', async () => {
    const agents = await Promise.all(Array.from({ length: AGENTS }, () => createAgent(stack.baseUrl)));
    const runIds: string[][] = agents.map(() => []);
    for (let i = 0; i < RUNS_PER_AGENT; i++) {
      const sent = await Promise.all(
        agents.map((agentId, a) => sendAsync(stack.baseUrl, agentId, { input: `turn ${a}.${i} [fake:delay=300]`, callback_url: receiver.url(`/pg/${a}`) })),
      );
      sent.forEach((runId, a) => runIds[a].push(runId));
    }
    // Restart while the agents' queues are still long.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const endedBeforeRestart = receiver.received.length;
    await stopPostgres(postgres);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    postgres = (await startPostgres(join(dataDir, 'pg'), port)).process;

    const total = AGENTS * RUNS_PER_AGENT;
    expect(endedBeforeRestart).toBeLessThan(total / 2);
    await receiver.waitFor(() => agents.every((_, a) => receiver.forPath(`/pg/${a}`).length >= RUNS_PER_AGENT), 180_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    let completed = 0;
    for (const [a] of agents.entries()) {
      const callbacks = receiver.forPath(`/pg/${a}`).map((c) => c.body as { run_id: string; status: string });
      // One callback per run, and the runs ended in the order they were sent.
      expect(callbacks.map((c) => c.run_id)).toEqual(runIds[a]);
      completed += callbacks.filter((c) => c.status === 'completed').length;
    }
    expect(completed).toBe(total);
    for (const runId of runIds.flat()) {
      expect(await getJson(stack.baseUrl, `/v1/runs/${runId}`)).toMatchObject({ status: 'completed' });
    }
  }, 240_000);
});
