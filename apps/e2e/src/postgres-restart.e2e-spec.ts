import type { CallbackReceiver, EmbeddedPostgres, TestStack } from '@lrs/testing';
import { createAgent, expectRunsEndedOnceInOrder, getJson, runsCalledBack, sendAsync, startStackWithOwnPostgres, type StackWithOwnPostgres } from './helpers';

const RUNS_PER_AGENT = 6;
const AGENTS = 8;

/**
 * Postgres restarted while runs are in flight: every accepted run still ends exactly once, with
 * one callback, in order per agent (the order read from its history); while it is down, requests that need it answer 503 with
 * Retry-After (not 500) and health says so. The stack gets a Postgres server of its own
 * (embedded), so restarting it disturbs no other test.
 */
describe('Postgres restarted under load', () => {
  let postgres: EmbeddedPostgres;
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let running: StackWithOwnPostgres;

  beforeAll(async () => {
    // The model answers slowly enough that the restart lands while steps are in flight.
    running = await startStackWithOwnPostgres({ JETSTREAM_ACK_WAIT_MS: '5000' });
    ({ postgres, stack, receiver } = running);
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
  });

  it('every accepted run ends once, calls back once and keeps its agent order', async () => {
    const agents = await Promise.all(Array.from({ length: AGENTS }, () => createAgent(stack.baseUrl)));
    const runIds: string[][] = agents.map(() => []);
    const inputs = new Map<string, string>();
    for (let i = 0; i < RUNS_PER_AGENT; i++) {
      const input = (a: number) => `turn ${a}.${i} [fake:delay=300]`;
      const sent = await Promise.all(agents.map((agentId, a) => sendAsync(stack.baseUrl, agentId, { input: input(a), callback_url: receiver.url(`/pg/${a}`) })));
      sent.forEach((runId, a) => {
        runIds[a].push(runId);
        inputs.set(runId, input(a));
      });
    }
    // Restart while the agents' queues are still long.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const endedBeforeRestart = receiver.received.length;
    const outage: Response[] = [];
    await postgres.restart(2_000, async () => {
      // While it is down: reads answer 503 with Retry-After, and health says the read model is unavailable.
      outage.push(await fetch(`${stack.baseUrl}/v1/agents/${agents[0]}`), await fetch(`${stack.baseUrl}/v1/health`));
    });
    for (const response of outage) {
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ detail: expect.any(String) });
    }
    expect(outage[0].headers.get('retry-after')).toBe('2');

    const total = AGENTS * RUNS_PER_AGENT;
    expect(endedBeforeRestart).toBeLessThan(total / 2);
    await receiver.waitFor(() => agents.every((_, a) => runsCalledBack(receiver, `/pg/${a}`) >= RUNS_PER_AGENT), 180_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    // One callback per run (a retried delivery keeps its webhook-id), and the runs ran in the order
    // they were sent, read from each agent's history: retried callbacks may arrive out of order.
    for (const [a, agentId] of agents.entries()) {
      await expectRunsEndedOnceInOrder({ baseUrl: stack.baseUrl, agentId, deliveries: receiver.forPath(`/pg/${a}`), accepted: runIds[a], inputs });
    }
    for (const runId of runIds.flat()) {
      expect(await getJson(stack.baseUrl, `/v1/runs/${runId}`)).toMatchObject({ status: 'completed' });
    }
  }, 240_000);
});
