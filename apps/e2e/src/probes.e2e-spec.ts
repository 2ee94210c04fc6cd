import { freePort, startServices, type ServiceProcess } from '@lrs/local-stack';
import { REPO_ROOT, createTestDatabase, startTestNats, type TestDatabase, type TestNats } from '@lrs/testing';

/**
 * The probes of a service without an HTTP API (here the projector, which needs NATS and Postgres)
 * on HEALTH_PORT: /livez while the process answers, /readyz only while its dependencies do.
 */
describe('service probes on HEALTH_PORT', () => {
  let nats: TestNats;
  let database: TestDatabase;
  let service: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    [nats, database] = await Promise.all([startTestNats(), createTestDatabase()]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    [service] = startServices({
      repoRoot: REPO_ROOT,
      names: ['projector'],
      env: { NATS_URL: nats.url, DATABASE_URL: database.url, HEALTH_PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1' },
      onLine: () => undefined,
    });
    await until(async () => (await fetch(`${base}/livez`).catch(() => null))?.status === 200);
  });
  afterAll(async () => {
    await service?.stop();
    await Promise.all([nats?.stop(), database?.drop()]);
  });

  it('is alive and ready; not ready while NATS is down, naming it; ready again once it is back', async () => {
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ok', checks: { nats: 'ok', postgres: 'ok' } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await nats.kill();
    await until(async () => (await fetch(`${base}/readyz`)).status === 503);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ detail: 'not ready', checks: { nats: expect.not.stringMatching(/^ok$/), postgres: 'ok' } });
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    await nats.restart();
    await until(async () => (await fetch(`${base}/readyz`)).status === 200);
    expect(service.unexpectedExits).toBe(0);
    // Its metrics, on the same port.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total\{service="projector"\} [\d.]+$/m);
    expect(metrics).toContain('# TYPE lrs_consumer_deliveries_total counter');
    // Its consumer's lag and unacknowledged messages, read from JetStream at the scrape.
    for (const gauge of ['lrs_consumer_lag_messages', 'lrs_consumer_unacked_messages', 'lrs_consumer_in_flight']) {
      expect(metrics).toMatch(new RegExp(`^${gauge}\\{[^}]*consumer="projector-read-model"[^}]*\\} \\d+$`, 'm'));
    }
  }, 60_000);

  it('serves the probes of a service without Postgres (the orchestrator): ready on NATS alone, with no error logged for the check it lacks', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const [orchestrator] = startServices({
      repoRoot: REPO_ROOT,
      names: ['orchestrator'],
      env: { NATS_URL: nats.url, HEALTH_PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1', LOG_FORMAT: 'json' },
      onLine: (_name, line) => lines.push(line),
    });
    try {
      await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200);
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ status: 'ok', checks: { nats: 'ok' } });
      expect(orchestrator.unexpectedExits).toBe(0);
      expect(lines.filter((line) => /"level":"error"|could not find/i.test(line))).toEqual([]);
    } finally {
      await orchestrator.stop();
    }
  }, 60_000);
});

async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
