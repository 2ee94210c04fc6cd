import { newId, RUN_EVENTS_STREAM, type RunEvent } from '@lrs/contracts';
import { describeLaneStorageContract, describeRunEventLogContract, sampleRunCreated, startTestNats } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { ConcurrencyConflict, RunEventStore, StaleRead, UnconfirmedConflict } from './run-event-store';
import { RunCommands } from './run-commands';
import { LaneStore } from './lane-store';

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

  // A consumer on a follower of an R3 stream can hand out an event before the stream leader has
  // applied it; what the leader answers then is what it answers here for a position beyond the run.
  it('does not take a refusal for a lost race when nothing follows the event the append was behind', async () => {
    const created = runCreated(newId('run'), newId('agent'));
    const createdSeq = await store.create(created);
    const ahead = { event: created, streamSeq: createdSeq + 1_000 };
    await expect(store.appendAfter(ahead, [{ type: 'RunStarted', data: { startedAt: new Date().toISOString(), maxSteps: 1 } }])).rejects.toBeInstanceOf(UnconfirmedConflict);
    await expect(store.latest(created.runId, ahead.streamSeq)).rejects.toBeInstanceOf(StaleRead);
    await expect(new RunCommands(store).executeAfter(ahead, { kind: 'laneGranted', createdStreamSeq: createdSeq })).rejects.toBeInstanceOf(UnconfirmedConflict);
    // Nothing was written, and the run moves on from what is really its latest event.
    expect(await store.latest(created.runId)).toEqual({ event: created, streamSeq: createdSeq });
  });

  describeRunEventLogContract('RunEventStore on JetStream', () => store);
  describeLaneStorageContract('LaneStore on a JetStream KV bucket', () => LaneStore.open(context.js));
});
