import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { DLQ_STREAM, EVENT_TYPE_HEADER, RUN_EVENTS_STREAM, RUN_LANES_BUCKET, runSubject } from '@lrs/contracts';
import { TERMINAL, createAgent, expectRunsEndedOnceInOrder, getJson, postJson, waitUntil } from './helpers';
import { ScaleStack } from './scale-stack';

const AGENTS = 12;

interface CallbackBody {
  run_id: string;
  status: string;
}

type Phase = 'warm-up' | 'node-loss' | 'settle' | 'rolling' | 'tail';

/**
 * Scale-out under faults: a 3-node NATS cluster (R3 streams and buckets), two processes of every
 * service and a gateway serving its port from two workers, under a steady load of runs on 12
 * agents. While it runs, the node that leads the run-event stream is lost for good, one process
 * of each service is SIGKILLed at a random moment, and then every process is rolled (SIGTERM,
 * drain, start again) one at a time. Every run the API accepted ends exactly once, completed,
 * with one callback effect and its agent's order kept; during the rolling restart not one HTTP
 * request fails.
 */
describe('scale-out', () => {
  let stack: ScaleStack;
  let monitor: NatsConnection;

  beforeAll(async () => {
    stack = await ScaleStack.start({ replicas: 2, gatewayWorkers: 2, env: { JETSTREAM_ACK_WAIT_MS: '5000' } });
    monitor = await connect({ servers: stack.cluster.url.split(','), pingInterval: 2_000, maxPingOut: 2, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 5_000 });
  }, 180_000);
  afterAll(async () => {
    await monitor?.close().catch(() => undefined);
    await stack?.stop();
  });

  it('ends every accepted run exactly once, in order, through node loss, crashes and a rolling restart', async () => {
    const agents = await Promise.all(Array.from({ length: AGENTS }, () => createAgent(stack.baseUrl)));
    const accepted: string[][] = agents.map(() => []);
    const inputs = new Map<string, string>();
    const failures: Record<Phase, string[]> = { 'warm-up': [], 'node-loss': [], settle: [], rolling: [], tail: [] };
    const requests: Record<Phase, number> = { 'warm-up': 0, 'node-loss': 0, settle: 0, rolling: 0, tail: 0 };
    let phase: Phase = 'warm-up';
    let loading = true;

    /** One HTTP request, counted against the phase it started in; a failure is recorded, not thrown. */
    const request = async (path: string, init?: RequestInit): Promise<Response | null> => {
      const startedIn = phase;
      requests[startedIn]++;
      try {
        const response = await fetch(`${stack.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
        if (response.ok) return response;
        failures[startedIn].push(`${init?.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
      } catch (error) {
        failures[startedIn].push(`${init?.method ?? 'GET'} ${path}: ${(error as Error).message}`);
      }
      return null;
    };

    // Each agent's client, as a careful one works: an Idempotency-Key per message and the same
    // request again after a failure; it sends its next message while the last one runs (so one
    // run waits in the agent's lane) and then waits for the earlier one to end, polling it.
    const ended = async (runId: string) => {
      while (loading) {
        const response = await request(`/v1/runs/${runId}`);
        if (response && TERMINAL.has(((await response.json()) as { status: string }).status)) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const clients = agents.map(async (agentId, a) => {
      for (let n = 0; loading; n++) {
        const input = `scale ${a}.${n} [fake:delay=${10 + ((a * 7 + n * 13) % 80)}]`;
        for (;;) {
          const response = await request(`/v1/agents/${agentId}/messages/async`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `scale-${a}-${n}` },
            body: JSON.stringify({ input, callback_url: stack.receiver.url(`/scale/${a}`) }),
          });
          if (response) {
            const runId = ((await response.json()) as { id: string }).id;
            accepted[a].push(runId);
            inputs.set(runId, input);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        if (n > 0) await ended(accepted[a][n - 1]);
      }
    });

    // A failing step must not leave the clients sending into a stack being torn down.
    const stopClients = async () => {
      loading = false;
      await Promise.all(clients);
    };
    try {
      await exerciseAndCheck();
    } finally {
      await stopClients();
    }

    async function exerciseAndCheck(): Promise<void> {
      const total = () => accepted.flat().length;
      // Progress, or a report of what is stuck (clients wait for their last run to end before sending).
      const waitForRuns = async (count: number) => {
        const deadline = Date.now() + 120_000;
        while (total() < count) {
          if (Date.now() > deadline) {
            const unfinished = (await getJson<{ id: string; status: string }[]>(stack.baseUrl, '/v1/runs?limit=1000')).filter((run) => !TERMINAL.has(run.status));
            const histories = await Promise.all(unfinished.slice(0, 4).map(async (run) => `${run.id} ${run.status}: ${(await eventTypesOf(monitor, run.id)).join(' ')}\n  ${stack.logs.filter((line) => line.includes(run.id)).slice(-12).join('\n  ')}`));
            throw new Error(`no progress in phase ${phase}: ${total()} of ${count} runs accepted; ${unfinished.length} unfinished\n${histories.join('\n')}\n${stack.logs.filter((line) => /WARN|ERROR/.test(line)).slice(-30).join('\n')}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const random = (below: number) => Math.floor(Math.random() * below);

      await waitForRuns(30);

      // Scheduled messages due while the node is lost and processes crash (issue 24): each fires exactly once.
      const scheduleAgents = await Promise.all(Array.from({ length: 3 }, () => createAgent(stack.baseUrl)));
      const schedules: string[] = [];
      const dueFrom = Date.now() + 2_000;
      for (let index = 0; index < 30; index++) {
        const created = await postJson(stack.baseUrl, `/v1/agents/${scheduleAgents[index % 3]}/schedule`, {
          messages: [{ role: 'user', content: `scheduled ${index}` }],
          schedule: { type: 'one-time', scheduled_at: dueFrom + index * 250 },
        });
        expect(created.status).toBeLessThan(300);
        schedules.push(created.body.id as string);
      }

      // The node that leads the run-event stream goes for good; meanwhile one process of each
      // service is SIGKILLed at a random moment and started again, as a supervisor would.
      phase = 'node-loss';
      const jsm = await jetstreamManager(monitor, { timeout: 10_000 });
      const leader = (await jsm.streams.info(RUN_EVENTS_STREAM)).cluster?.leader;
      expect(leader).toBeDefined();
      const acceptedBeforeLoss = total();
      await stack.cluster.lose(leader!);
      const crashes = ['projector', 'orchestrator', 'llm-worker', 'callback-dispatcher'].map(async (name) => {
        const victims = stack.processes.filter((scaled) => scaled.process.name === name);
        const victim = victims[random(victims.length)].process;
        await new Promise((resolve) => setTimeout(resolve, 500 + random(6_000)));
        await victim.crash();
        await new Promise((resolve) => setTimeout(resolve, 500));
        victim.start();
      });
      const gatewayCrash = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 500 + random(6_000)));
        const workers = stack.gatewayWorkerPids();
        process.kill(workers[random(workers.length)], 'SIGKILL');
      })();
      await Promise.all([...crashes, gatewayCrash]);
      // The test's own connection may have been on the lost node too: it asks until it has moved.
      const newLeader = (await retrying(() => jsm.streams.info(RUN_EVENTS_STREAM))).cluster?.leader;
      expect(newLeader).not.toBe(leader);
      await waitForRuns(acceptedBeforeLoss + 40);

      // Everything answers again before the roll: the roll must not fail a request, the loss may have.
      phase = 'settle';
      await stack.waitReady(120_000);
      await waitForGatewayWorkers(stack, 2);
      await waitForRuns(total() + 20);

      // Every process in turn: SIGTERM, drain, start again, ready; the gateway rolls its workers.
      phase = 'rolling';
      const rolled: string[] = [];
      for (const scaled of stack.processes) {
        if (scaled.process.name === 'gateway') {
          const before = stack.gatewayWorkerPids();
          const logMark = stack.logs.length;
          scaled.process.signal('SIGHUP');
          await waitUntil(() => stack.logs.slice(logMark).some((line) => line.includes('rolling restart done')), 60_000);
          const after = stack.gatewayWorkerPids();
          expect(after.filter((pid) => before.includes(pid))).toEqual([]);
        } else {
          await scaled.process.stop(30_000);
          scaled.process.start();
          await waitForHttp200(scaled.readyUrl, 90_000);
        }
        rolled.push(scaled.process.label);
      }
      await waitForRuns(total() + 20);
      phase = 'tail';
      await stopClients();

      // Every accepted run's callback arrives.
      const runs = accepted.flat();
      const called = () => new Set(stack.receiver.received.map((c) => (c.body as CallbackBody).run_id));
      await stack.receiver.waitFor(() => called().size >= runs.length, 240_000).catch(async (error: Error) => {
        const missing = runs.filter((runId) => !called().has(runId));
        const statuses = await Promise.all(missing.slice(0, 10).map((runId) => getJson<{ status: string }>(stack.baseUrl, `/v1/runs/${runId}`).then((run) => `${runId}: ${run.status}`, (e: Error) => `${runId}: ${e.message}`)));
        const warnings = stack.logs.filter((line) => /WARN|ERROR/.test(line)).slice(-40);
        const histories = await Promise.all(
          missing.slice(0, 4).map(async (runId) => `${runId}: ${(await eventTypesOf(monitor, runId)).join(' ')}\n  ${stack.logs.filter((line) => line.includes(runId)).slice(-20).join('\n  ')}`),
        );
        const lanes = await new Kvm(monitor).open(RUN_LANES_BUCKET);
        const laneStates = await Promise.all(
          agents.map(async (agentId) => `${agentId}: ${(await lanes.get(agentId))?.string() ?? 'none'}`),
        );
        const dlq = await retrying(() => jsm.streams.info(DLQ_STREAM));
        throw new Error(
          `${error.message}: ${missing.length} of ${runs.length} runs without a callback (${statuses.join('; ')})\n` +
            `events: ${histories.join('\n')}\nlanes: ${laneStates.join('\n')}\nDLQ messages: ${dlq.state.messages}\n${warnings.join('\n')}`,
        );
      });

      for (const [a, agentId] of agents.entries()) {
        await expectRunsEndedOnceInOrder({ baseUrl: stack.baseUrl, agentId, deliveries: stack.receiver.forPath(`/scale/${a}`), accepted: accepted[a], inputs });
      }

      // Every schedule made exactly one run, and it ended (the log's check below counts its RunFinished).
      type ScheduledRun = { id: string; status: string; metadata?: { schedule_id?: string } };
      const scheduledRuns = async () =>
        (await Promise.all(scheduleAgents.map((agentId) => getJson<ScheduledRun[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}&limit=1000`)))).flat();
      await waitUntil(async () => {
        const made = await scheduledRuns();
        return made.length >= schedules.length && made.every((run) => TERMINAL.has(run.status));
      }, 120_000);
      const madeRuns = await scheduledRuns();
      expect(schedules.map((id) => madeRuns.filter((run) => run.metadata?.schedule_id === id).length)).toEqual(schedules.map(() => 1));
      expect(madeRuns.filter((run) => run.status !== 'completed')).toEqual([]);
      runs.push(...madeRuns.map((run) => run.id));

      // From the log itself: one RunFinished per run, and an agent's runs never overlap.
      // The cluster has just been through a lot: a JetStream API call may time out, so the whole read is retried.
      const { finished, started, finishedAt } = await retrying(async () => {
        const log = { finished: new Map<string, number>(), started: new Map<string, number>(), finishedAt: new Map<string, number>() };
        const info = await jsm.streams.info(RUN_EVENTS_STREAM);
        const messages = await (await jetstream(monitor).consumers.get(RUN_EVENTS_STREAM)).consume();
        try {
          for await (const message of messages) {
            const type = message.headers?.get(EVENT_TYPE_HEADER);
            const runId = message.subject.split('.')[1];
            if (type === 'RunFinished') {
              log.finished.set(runId, (log.finished.get(runId) ?? 0) + 1);
              log.finishedAt.set(runId, message.seq);
            }
            if (type === 'RunStarted') log.started.set(runId, message.seq);
            if (message.seq >= info.state.last_seq) break;
          }
        } finally {
          await messages.close();
        }
        return log;
      });
      expect(runs.filter((runId) => finished.get(runId) !== 1)).toEqual([]);
      for (const runsOfAgent of accepted) {
        for (let index = 1; index < runsOfAgent.length; index++) {
          expect({ run: runsOfAgent[index], startedAfterPreviousFinished: started.get(runsOfAgent[index])! > finishedAt.get(runsOfAgent[index - 1])! }).toEqual({
            run: runsOfAgent[index],
            startedAfterPreviousFinished: true,
          });
        }
      }

      expect(failures.rolling).toEqual([]);
      console.log(
        `scale-out (${stack.cluster.network} cluster): ${runs.length} runs on ${AGENTS} agents ended once and in order, ${schedules.length} scheduled messages fired once each; ` +
          `node ${leader} lost (stream leader now ${newLeader}); requests per phase ${JSON.stringify(requests)}, ` +
          `failed ${JSON.stringify(Object.fromEntries(Object.entries(failures).map(([name, list]) => [name, list.length])))}; rolled ${rolled.join(', ')}\n` +
          `first failures per phase: ${JSON.stringify(Object.fromEntries(Object.entries(failures).map(([name, list]) => [name, list.slice(0, 3)])))}`,
      );
    }
  }, 900_000);
});

/** The types of a run's events, in log order (for a failure's report). */
async function eventTypesOf(nc: NatsConnection, runId: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const types: string[] = [];
  for (let seq = 1; ; ) {
    const message = await jsm.direct.getMessage(RUN_EVENTS_STREAM, { next_by_subj: runSubject(runId), seq }).catch(() => null);
    if (!message) return types;
    types.push(`${message.header?.get(EVENT_TYPE_HEADER)}@${message.seq}`);
    seq = message.seq + 1;
  }
}

async function retrying<T>(attempt: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}


async function waitForHttp200(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms (last ${status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForGatewayWorkers(stack: ScaleStack, count: number): Promise<void> {
  await waitUntil(() => stack.gatewayWorkerPids().length >= count, 60_000);
  await waitForHttp200(`${stack.baseUrl}/readyz`, 60_000);
}
