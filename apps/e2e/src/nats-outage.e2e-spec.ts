import { CallbackReceiver, TestStack } from '@lrs/testing';
import { createAgent, expectRunsEndedOnceInOrder, getJson, runsCalledBack, sendAsync } from './helpers';

/**
 * nats-server killed (SIGKILL) while runs are in flight and started again: while it is down, a
 * new run answers 503 with Retry-After at once and health says the event log is unreachable, reads
 * of the read model still work; once it is back, every run accepted before or after ends exactly
 * once, in order per agent, with one callback (a retried delivery keeps its webhook-id). The order
 * is read from the agent's history: callbacks are retried with backoff, so the order in which they
 * arrive is not the order in which the runs ended.
 */
describe('NATS killed and restarted', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([TestStack.start({ env: { JETSTREAM_ACK_WAIT_MS: '5000' } }), CallbackReceiver.start()]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('refuses new runs fast while it is down and loses none of those it accepted', async () => {
    const agents = await Promise.all([0, 1, 2, 3].map(() => createAgent(stack.baseUrl)));
    const runIds: string[][] = agents.map(() => []);
    const inputs = new Map<string, string>();
    const send = async (round: string) => {
      const input = (a: number) => `${round} ${a} [fake:delay=200]`;
      const sent = await Promise.all(agents.map((agentId, a) => sendAsync(stack.baseUrl, agentId, { input: input(a), callback_url: receiver.url(`/nats/${a}`) })));
      sent.forEach((runId, a) => {
        runIds[a].push(runId);
        inputs.set(runId, input(a));
      });
    };
    for (const round of ['r1', 'r2', 'r3']) await send(round);

    await stack.nats.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await fetch(`${stack.baseUrl}/v1/agents/${agents[0]}/messages/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'while NATS is down' }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toEqual({ detail: expect.stringContaining('event log is unreachable') });
    expect((await fetch(`${stack.baseUrl}/v1/health`)).status).toBe(503);
    // The probes: alive, but not ready, and the answer says why.
    expect((await fetch(`${stack.baseUrl}/livez`)).status).toBe(200);
    const notReady = await fetch(`${stack.baseUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ detail: 'not ready', checks: { nats: expect.not.stringMatching(/^ok$/), postgres: 'ok' } });
    // What only needs Postgres still answers.
    expect(await getJson(stack.baseUrl, `/v1/agents/${agents[0]}`)).toMatchObject({ id: agents[0] });

    await stack.nats.restart();
    await waitUntilHealthy(stack.baseUrl);
    expect(await (await fetch(`${stack.baseUrl}/readyz`)).json()).toEqual({ status: 'ok', checks: { nats: 'ok', postgres: 'ok' } });
    for (const round of ['r4', 'r5']) await send(round);

    const perAgent = runIds[0].length;
    await receiver.waitFor(() => agents.every((_, a) => runsCalledBack(receiver, `/nats/${a}`) >= perAgent), 120_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const [a, agentId] of agents.entries()) {
      await expectRunsEndedOnceInOrder({ baseUrl: stack.baseUrl, agentId, deliveries: receiver.forPath(`/nats/${a}`), accepted: runIds[a], inputs });
    }
    // Nothing was created for the refused request.
    const runsOfAgent = await getJson<{ id: string }[]>(stack.baseUrl, `/v1/runs?agent_id=${agents[0]}&limit=100`);
    expect(runsOfAgent.map((run) => run.id).sort()).toEqual([...runIds[0]].sort());
  }, 180_000);
});

async function waitUntilHealthy(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await fetch(`${baseUrl}/v1/health`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the gateway did not become healthy again after NATS came back');
}
