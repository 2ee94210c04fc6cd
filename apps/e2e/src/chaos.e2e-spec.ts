import type { CallbackReceiver, EmbeddedPostgres, TestStack } from '@lrs/testing';
import type { ServiceName } from '@lrs/local-stack';
import { createAgent, expectRunsEndedOnceInOrder, startStackWithOwnPostgres, type StackWithOwnPostgres } from './helpers';

const AGENTS = 20;
const ROUNDS = 16;
const VICTIMS: ServiceName[] = ['orchestrator', 'llm-worker', 'projector', 'callback-dispatcher', 'gateway', 'llm-worker', 'orchestrator', 'callback-dispatcher'];

interface CallbackBody {
  run_id: string;
  status: string;
}

/**
 * Chaos under load: 320 runs on 20 agents while services are SIGKILLed and restarted one after
 * another, nats-server is killed and restarted once and Postgres is restarted once. Every run the
 * API accepted ends exactly once: completed, one callback effect (a repeated delivery keeps its
 * webhook-id), one user and one assistant message, and each agent's messages in the order sent.
 */
describe('chaos', () => {
  let postgres: EmbeddedPostgres;
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let running: StackWithOwnPostgres;

  beforeAll(async () => {
    running = await startStackWithOwnPostgres({ JETSTREAM_ACK_WAIT_MS: '3000', CALLBACK_RETRY_BASE_MS: '200' });
    ({ postgres, stack, receiver } = running);
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
  });

  it('ends every accepted run exactly once while services, NATS and Postgres are killed', async () => {
    const agents = await Promise.all(Array.from({ length: AGENTS }, () => createAgent(stack.baseUrl)));
    const accepted: string[][] = agents.map(() => []);
    const inputs = new Map<string, string>();
    let retried = 0;

    // As a careful client does: an Idempotency-Key per message, and the same request again after a
    // 503 or a lost connection until it is accepted, so that a run created by an answer that never
    // arrived is found again rather than doubled.
    const send = async (round: number) =>
      Promise.all(
        agents.map(async (agentId, a) => {
          const input = `chaos ${a}.${round} [fake:delay=${20 + ((a * 7 + round * 13) % 150)}]`;
          let last = '';
          for (let attempt = 1; attempt <= 200; attempt++) {
            try {
              const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/async`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'idempotency-key': `chaos-${a}-${round}` },
                body: JSON.stringify({ input, callback_url: receiver.url(`/chaos/${a}`) }),
              });
              if (response.status === 200) {
                const runId = ((await response.json()) as { id: string }).id;
                accepted[a].push(runId);
                inputs.set(runId, input);
                return;
              }
              last = `${response.status} ${await response.text()}`;
              expect(response.status).toBe(503);
            } catch (error) {
              // A lost connection (the gateway was killed): fetch's TypeError, from another realm than the test's.
              if ((error as Error).message !== 'fetch failed') throw error;
              last = 'connection refused';
            }
            retried++;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
          const services = [...stack.services.values()].map((service) => `${service.name}: ${service.running ? 'running' : 'down'}, ${service.unexpectedExits} unexpected exits`);
          throw new Error(`message ${a}.${round} was never accepted; last answer: ${last}; ${services.join('; ')}\n${stack.logs.slice(-30).join('\n')}`);
        }),
      );

    const sending = (async () => {
      for (let round = 0; round < ROUNDS; round++) {
        await send(round);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const chaos = (async () => {
      for (const [index, name] of VICTIMS.entries()) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        const service = stack.service(name);
        await service.crash();
        await new Promise((resolve) => setTimeout(resolve, 300));
        service.start();
        if (index === 2) {
          await stack.nats.kill();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
          await stack.nats.restart();
        }
        if (index === 5) await postgres.restart(1_500);
      }
    })();
    await Promise.all([sending, chaos]);

    const total = accepted.flat().length;
    expect(total).toBe(AGENTS * ROUNDS);
    await receiver.waitFor(() => new Set(receiver.received.map((c) => (c.body as CallbackBody).run_id)).size >= total, 240_000);

    for (const [a, agentId] of agents.entries()) {
      await expectRunsEndedOnceInOrder({ baseUrl: stack.baseUrl, agentId, deliveries: receiver.forPath(`/chaos/${a}`), accepted: accepted[a], inputs });
    }
    console.log(`chaos: ${total} runs accepted and ended once; ${retried} sends retried while something was down`);
  }, 420_000);
});
