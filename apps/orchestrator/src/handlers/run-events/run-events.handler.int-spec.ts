import { newId, type AnyRunEvent, type RunEvent } from '@lrs/contracts';
import {
  connectJetStream,
  LaneStore,
  provisionJetStream,
  RunCommands,
  RunEventStore,
  RunTimers,
  RunWork,
  type JetStreamContext,
  type StoredRunEvent,
} from '@lrs/jetstream';
import type { RunningNats } from '@lrs/local-stack';
import { sampleRunCreated, startTestNats } from '@lrs/testing';
import { enqueue } from '@lrs/domain-run';
import { RunEventsHandler } from './run-events.handler';

const created = (agentId: string): RunEvent<'RunCreated'> => sampleRunCreated(agentId, { maxSteps: 2 });

/** The orchestrator's handler against real JetStream, with every event delivered twice (redelivery). */
describe('orchestrator run-events handler', () => {
  let nats: RunningNats;
  let context: JetStreamContext;
  let store: RunEventStore;
  let lanes: LaneStore;
  let handler: RunEventsHandler;

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'orchestrator-int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    store = new RunEventStore(context.js, context.jsm);
    lanes = await LaneStore.open(context.js);
    const work = new RunWork(context.js, (event) => store.encode(event), console);
    handler = new RunEventsHandler(store, new RunCommands(store, work), lanes, new RunTimers(context.js), work);
  });
  afterAll(async () => {
    await context?.nc.drain();
    await nats?.stop();
  });

  const deliverTwice = async (stored: StoredRunEvent) => {
    const context = { streamSeq: stored.streamSeq, deliveryCount: 1, isLastAttempt: false, working: () => undefined };
    await Promise.all([handler.handle(stored.event, context), handler.handle(stored.event, { ...context, deliveryCount: 2 })]);
  };
  const latest = async (runId: string) => (await store.latest(runId))!;

  it('starts only the oldest queued run of a lane, once, however often and in whatever order its events arrive', async () => {
    const agentId = newId('agent');
    const runs: StoredRunEvent[] = [];
    for (let i = 0; i < 3; i++) {
      const event = created(agentId);
      runs.push({ event, streamSeq: await store.create(event) });
      // As the gateway does before it answers the create request.
      await lanes.update(agentId, (lane) => enqueue(lane, { runId: event.runId, createdSeq: runs[i].streamSeq }));
    }
    await Promise.all([...runs].reverse().map(deliverTwice));

    const first = await latest(runs[0].event.runId);
    expect(first.event).toMatchObject({ type: 'StepRequested', seq: 3, data: { stepIndex: 1, maxSteps: 2 } });
    for (const waiting of runs.slice(1)) expect((await latest(waiting.event.runId)).event.type).toBe('RunCreated');
    expect(await lanes.read(agentId)).toMatchObject({
      active: { runId: runs[0].event.runId },
      waiting: runs.slice(1).map((r) => ({ runId: r.event.runId })),
    });
  });

  it('decides each step once, enforces max_steps, and hands the lane to the next run', async () => {
    const agentId = newId('agent');
    const [a, b] = [created(agentId), created(agentId)];
    const storedA = { event: a as AnyRunEvent, streamSeq: await store.create(a) };
    const storedB = { event: b as AnyRunEvent, streamSeq: await store.create(b) };
    // No gateway queued these: the orchestrator queues them from RunCreated (the recovery path).
    await deliverTwice(storedA);
    await deliverTwice(storedB);

    // The model asks for another step twice in a row; max_steps is 2, so the second ends the run.
    for (const stepIndex of [1, 2]) {
      const requested = await latest(a.runId);
      expect(requested.event).toMatchObject({ type: 'StepRequested', data: { stepIndex } });
      const [completed] = await store.appendAfter(requested, [
        {
          type: 'StepCompleted',
          data: {
            stepId: (requested.event as RunEvent<'StepRequested'>).data.stepId, stepIndex, maxSteps: 2, model: 'm', modelHandle: 'openai/m',
            messages: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, continueLoop: true, stopReason: null,
            firstTokenAtMs: null, llmRequestStartedAtMs: Date.now(), completedAt: new Date().toISOString(),
          },
        },
      ]);
      await deliverTwice(completed);
    }
    const finished = await latest(a.runId);
    expect(finished.event).toMatchObject({ type: 'RunFinished', data: { status: 'completed', stopReason: 'max_steps' } });
    expect(finished.event.seq).toBe(7);

    // Finishing A started B (right away, and a redelivered RunFinished changes nothing more).
    await deliverTwice(finished);
    expect((await latest(b.runId)).event).toMatchObject({ type: 'StepRequested', seq: 3 });
    expect((await lanes.read(agentId)).active?.runId).toBe(b.runId);
  });

  // Last, because it takes the lane store away.
  it('ends a run failed, with a readable reason, when its last delivery cannot move it on', async () => {
    const event = created(newId('agent'));
    const stored = { event, streamSeq: await store.create(event) };
    // A real failure, no stand-in: the lanes' KV bucket is gone, so the handler cannot queue the run.
    await context.jsm.streams.delete('KV_run-lanes');
    const context_ = { streamSeq: stored.streamSeq, deliveryCount: 20, isLastAttempt: true, working: () => undefined };
    await expect(handler.handle(event, context_)).rejects.toThrow();
    expect((await latest(event.runId)).event).toMatchObject({
      type: 'RunFinished',
      data: { status: 'failed', stopReason: 'error', error: expect.stringContaining('the orchestrator could not move the run on after RunCreated') },
    });
    // Not on an earlier delivery: that one is retried.
    const other = created(newId('agent'));
    const otherStored = { event: other, streamSeq: await store.create(other) };
    await expect(handler.handle(other, { ...context_, streamSeq: otherStored.streamSeq, deliveryCount: 1, isLastAttempt: false })).rejects.toThrow();
    expect((await latest(other.runId)).event.type).toBe('RunCreated');
  });
});
