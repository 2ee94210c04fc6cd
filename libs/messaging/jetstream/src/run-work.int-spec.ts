import type { JetStreamClient, MsgRequest } from '@nats-io/jetstream';
import { RUN_STREAM_SEQ_HEADER, RUN_WORK_STREAM, newId, workSubject } from '@lrs/contracts';
import type { RunningNats } from '@lrs/local-stack';
import { sampleRunCreated, startTestNats } from '@lrs/testing';
import { connectJetStream, type JetStreamContext } from './connection';
import { CONSUMER_POLICIES, provisionJetStream } from './provisioning';
import { RunCommands } from './run-commands';
import { RunEventStore, decodeRunEvent, type StoredRunEvent } from './run-event-store';
import { RunWork } from './run-work';

/**
 * The work queues on a real nats-server: every StepRequested and RunFinished reaches its queue
 * once, whether its writer's copy went through (and the orchestrator's forward is then dropped or
 * skipped) or failed (and the forward makes it), each carrying its place in the run log.
 */
describe('RunWork (work queues)', () => {
  let nats: RunningNats;
  let context: JetStreamContext;
  let store: RunEventStore;
  const warnings: string[] = [];
  const logger = { warn: (message: string) => void warnings.push(message) };

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'run-work-int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    store = new RunEventStore(context.js, context.jsm);
  });
  afterAll(async () => {
    await context?.nc.drain();
    await nats?.stop();
  });

  const workOf = (js: JetStreamClient) => new RunWork(js, (event) => store.encode(event), logger);
  /** A client whose publishes fail, as a writer's do when NATS goes away right after its append. */
  const failingPublishes = (): JetStreamClient => new Proxy(context.js, { get: (target, key) => (key === 'publish' ? () => Promise.reject(new Error('connection lost')) : Reflect.get(target, key)) });

  /** Starts a run and takes it to its StepRequested, as the orchestrator does on its RunCreated. */
  const startRun = async (commands: RunCommands): Promise<StoredRunEvent> => {
    const created = sampleRunCreated(newId('agent'), { maxSteps: 1 });
    const streamSeq = await store.create(created);
    const result = await commands.executeAfter({ event: created, streamSeq }, { kind: 'laneGranted', createdStreamSeq: streamSeq });
    if (result.kind !== 'appended') throw new Error(`the run did not start: ${result.kind}`);
    return result.events[result.events.length - 1];
  };

  const itemsOf = async (runId: string) => {
    const items = [];
    for (let seq = 1; ; seq++) {
      // The leader's message-get takes `next_by_subj` (nats-server 2.9), which the client's type leaves out.
      const query = { seq, next_by_subj: workSubject('StepRequested', runId) } as unknown as MsgRequest;
      const message = await context.jsm.streams.getMessage(RUN_WORK_STREAM, query).catch(() => null);
      if (!message) return items;
      items.push({ event: decodeRunEvent(message.data), logSeq: Number(message.header.get(RUN_STREAM_SEQ_HEADER)) });
      seq = message.seq;
    }
  };

  it('keeps one copy of a step when both its writer and the orchestrator publish it', async () => {
    const writer = workOf(context.js);
    const requested = await startRun(new RunCommands(store, writer));
    expect(requested.event.type).toBe('StepRequested');
    // Another orchestrator replica, which did not write it, is delivered it and forwards it too.
    await workOf(context.js).forward(requested);
    // The writer's own forward waits for its publish instead of publishing again.
    await writer.forward(requested);

    expect(await itemsOf(requested.event.runId)).toEqual([{ event: requested.event, logSeq: requested.streamSeq }]);
  });

  it('copies a step whose writer could not publish it when the orchestrator is delivered it', async () => {
    warnings.length = 0;
    const requested = await startRun(new RunCommands(store, workOf(failingPublishes())));
    expect(await itemsOf(requested.event.runId)).toEqual([]);
    expect(warnings).toEqual([expect.stringContaining(`StepRequested of ${requested.event.runId} not copied to its work queue`)]);

    await workOf(context.js).forward(requested);
    expect(await itemsOf(requested.event.runId)).toEqual([{ event: requested.event, logSeq: requested.streamSeq }]);
  });

  it('fails the forward when it cannot publish, so the delivery is retried', async () => {
    const requested = await startRun(new RunCommands(store));
    await expect(workOf(failingPublishes()).forward(requested)).rejects.toThrow('connection lost');
    expect(await itemsOf(requested.event.runId)).toEqual([]);
  });

  it('gives the llm-worker and the callback dispatcher consumers of their own queue only', async () => {
    const [steps, finished] = await Promise.all([
      context.jsm.consumers.info(RUN_WORK_STREAM, CONSUMER_POLICIES.llmWorker.name),
      context.jsm.consumers.info(RUN_WORK_STREAM, CONSUMER_POLICIES.callbackDispatcher.name),
    ]);
    expect([steps.config.filter_subject, finished.config.filter_subject]).toEqual(['work.steps.>', 'work.finished.>']);
  });
});
