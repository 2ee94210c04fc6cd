import { request as httpRequest, Agent } from 'node:http';
import { TestStack } from '@lrs/testing';
import { waitUntil } from './helpers';

const CLIENTS = 8;

interface Outcome {
  ok: number;
  closedByServer: number;
  failures: string[];
}

/** One GET on a keep-alive agent; counts answers that said the connection was the last one. */
function get(baseUrl: string, agent: Agent, outcome: Outcome): Promise<void> {
  return new Promise((resolve) => {
    const request = httpRequest(`${baseUrl}/v1/health`, { agent, timeout: 10_000 }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode === 200) outcome.ok++;
        else outcome.failures.push(`status ${response.statusCode}`);
        if (response.headers.connection === 'close') outcome.closedByServer++;
        resolve();
      });
    });
    request.on('error', (error) => {
      outcome.failures.push(error.message);
      resolve();
    });
    request.end();
  });
}

/**
 * A gateway serving its port from two workers is rolled (SIGHUP: each worker in turn is replaced
 * and drained) twice, while clients that keep their connections alive, as every HTTP library
 * does, send requests back to back. Not one request may fail: a draining worker answers with
 * `Connection: close` instead of closing connections under the clients.
 */
describe('gateway rolling restart under keep-alive load', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ services: ['gateway'], env: { GATEWAY_WORKERS: '2', DRAIN_TIMEOUT_MS: '15000' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('fails no request while every worker is replaced, twice', async () => {
    const outcome: Outcome = { ok: 0, closedByServer: 0, failures: [] };
    let loading = true;
    const clients = Array.from({ length: CLIENTS }, async () => {
      // Node's agent honours the server's Keep-Alive timeout hint, as browsers and undici do.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (loading) await get(stack.baseUrl, agent, outcome);
      agent.destroy();
    });
    try {
      await waitUntil(() => outcome.ok > 200, 30_000);
      for (let roll = 1; roll <= 2; roll++) {
        const mark = stack.logs.length;
        stack.service('gateway').signal('SIGHUP');
        await waitUntil(() => stack.logs.slice(mark).some((line) => line.includes('rolling restart done')), 90_000);
      }
      const before = outcome.ok;
      await waitUntil(() => outcome.ok > before + 200, 30_000);
    } finally {
      loading = false;
      await Promise.all(clients);
    }
    expect(outcome.failures).toEqual([]);
    // The draining workers told their clients to move on (else the test proved nothing of the drain).
    expect(outcome.closedByServer).toBeGreaterThan(0);
  }, 240_000);
});
