import { newId, RUN_EVENTS_STREAM, type RunEvent } from '@lrs/contracts';
import { sampleRunCreated, startTestNats } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { ConcurrencyConflict, RunEventStore } from './run-event-store';
import { LaneStore } from './lane-store';
import { enqueue, promote } from '@lrs/domain-run';

const runCreated = (runId: string, agentId: string): RunEvent<'RunCreated'> => sampleRunCreated(agentId, { runId });

describe('RunEventStore and LaneStore on a real JetStream', () => {
  let nats: RunningNats;
  let context: JetStreamContext;
  let store: RunEventStore;

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    store = new RunEventStore(context.js, context.jsm);
  });
  afterAll(async () => {
    await context?.nc.drain();
    await nats?.stop();
  });

  const streamSize = async () => (await context.jsm.streams.info(RUN_EVENTS_STREAM)).state.messages;

  it('provisioning is idempotent: running it again changes nothing and fails nothing', async () => {
    const before = await context.jsm.consumers.info(RUN_EVENTS_STREAM, 'orchestrator-run-events');
    await Promise.all([1, 2, 3].map(() => provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 })));
    const after = await context.jsm.consumers.info(RUN_EVENTS_STREAM, 'orchestrator-run-events');
    expect(after.config.ack_wait).toBe(before.config.ack_wait);
    expect((await context.jsm.streams.list().next()).map((s) => s.config.name).sort()).toEqual(expect.arrayContaining(['DLQ', 'KV_run-lanes', 'RUN_EVENTS']));
  });

  it('a retried create of the same run is stored once, and refused as a conflict: a run is never created twice (Nats-Msg-Id dedupe)', async () => {
    const event = runCreated(newId('run'), newId('agent'));
    const before = await streamSize();
    await store.create(event);
    // Within the duplicate window JetStream answers with the original position; the store does not
    // take that for a new run (it may have been deleted since).
    await expect(store.create(event)).rejects.toBeInstanceOf(ConcurrencyConflict);
    expect(await streamSize()).toBe(before + 1);
  });

  it('appends behind the latest event only; a stale writer loses with ConcurrencyConflict', async () => {
    const created = runCreated(newId('run'), newId('agent'));
    const createdSeq = await store.create(created);
    const stored = { event: created, streamSeq: createdSeq };
    const [started] = await store.appendAfter(stored, [{ type: 'RunStarted', data: { startedAt: new Date().toISOString(), maxSteps: 5 } }]);
    expect(started.event).toMatchObject({ type: 'RunStarted', seq: 2, laneId: created.laneId });
    expect(started.event.id).toMatch(new RegExp(`^evt:${created.runId}:2:[0-9a-f]{16}$`));

    // A second, different decision taken from the same (now stale) RunCreated is rejected, not
    // appended after RunStarted and not mistaken for it.
    const competitor = store.appendAfter(stored, [
      { type: 'StepRequested', data: { stepId: newId('step'), stepIndex: 1, maxSteps: 5, requestedAt: new Date().toISOString() } },
    ]);
    await expect(competitor).rejects.toBeInstanceOf(ConcurrencyConflict);

    const latest = await store.latest(created.runId);
    expect(latest?.event.type).toBe('RunStarted');
    expect(latest?.streamSeq).toBe(started.streamSeq);
    expect(await store.latest(newId('run'))).toBeNull();
  });

  it('lanes: concurrent enqueues from many writers keep every run exactly once, in creation order', async () => {
    const lanes = await LaneStore.open(context.js);
    const laneId = newId('agent');
    const entries = Array.from({ length: 25 }, (_, index) => ({ runId: newId('run'), createdSeq: 1000 + index }));
    await Promise.all([...entries].reverse().map((entry) => lanes.update(laneId, (lane) => enqueue(lane, entry))));
    const lane = await lanes.read(laneId);
    expect(lane.active).toBeNull();
    expect(lane.waiting.map((e) => e.runId)).toEqual(entries.map((e) => e.runId));

    await Promise.all([1, 2, 3, 4].map(() => lanes.update(laneId, promote)));
    const promoted = await lanes.read(laneId);
    expect(promoted.active?.runId).toBe(entries[0].runId);
    expect(promoted.waiting).toHaveLength(entries.length - 1);
  });
});
