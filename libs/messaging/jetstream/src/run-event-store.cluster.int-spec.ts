import { newId, type RunEventDraft } from '@lrs/contracts';
import { sampleRunCreated, startNatsCluster, type NatsCluster } from '@lrs/testing';
import { connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { ConcurrencyConflict, RunEventStore, type StoredRunEvent } from './run-event-store';

const POSITIONS = 25;
const WRITERS = 6;

/**
 * On a 3-node cluster with R3 streams, writers on different nodes race to append at the same
 * position of a run. Exactly one may win each race; nats-server 2.9 before 2.9.21 lets several
 * through when only the expected last subject sequence guards the append, so this fails unless
 * the position is also the message id.
 */
describe('RunEventStore on a NATS cluster: one event per run position, whoever races', () => {
  let cluster: NatsCluster;
  let contexts: JetStreamContext[];
  let stores: RunEventStore[];

  beforeAll(async () => {
    cluster = await startNatsCluster({ network: 'loopback' });
    contexts = await Promise.all(cluster.nodes.map((node) => connectJetStream({ servers: node.url, name: `cluster-int-spec-${node.name}` })));
    await provisionJetStream(contexts[0].jsm, contexts[0].js, { replicas: 3, runEventsMaxAgeMs: 0 });
    stores = contexts.map((context) => new RunEventStore(context.js, context.jsm));
  }, 60_000);
  afterAll(async () => {
    await Promise.all((contexts ?? []).map((context) => context.nc.close()));
    await cluster?.stop();
  });

  // Writers decide differently (as replicas with their own clocks and ids do): maxSteps tells them apart.
  const draft = (writer: number): RunEventDraft => ({ type: 'RunStarted', data: { startedAt: new Date().toISOString(), maxSteps: writer + 1 } });

  it(`lets exactly one of ${WRITERS} racing appends win each of ${POSITIONS} positions`, async () => {
    const runId = newId('run');
    const created = sampleRunCreated(newId('agent'), { runId });
    let latest: StoredRunEvent = { event: created, streamSeq: await stores[0].create(created) };
    const winners: number[] = [];
    for (let position = 0; position < POSITIONS; position++) {
      const from = latest;
      const results = await Promise.allSettled(Array.from({ length: WRITERS }, (_, writer) => stores[writer % stores.length].appendAfter(from, [draft(writer)])));
      const won = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value[0]] : []));
      const lost = results.filter((result) => result.status === 'rejected');
      expect(lost.every((result) => (result as PromiseRejectedResult).reason instanceof ConcurrencyConflict)).toBe(true);
      winners.push(won.length);
      latest = won[0] ?? (await stores[0].latest(runId))!;
    }
    expect(winners).toEqual(Array.from({ length: POSITIONS }, () => 1));
    // The run holds exactly one event per position, in order.
    const stored: number[] = [];
    for (let from = 1; ; ) {
      const next = await stores[0].nextOf(runId, from);
      if (!next) break;
      stored.push(next.event.seq);
      from = next.streamSeq + 1;
    }
    expect(stored).toEqual(Array.from({ length: POSITIONS + 1 }, (_, index) => index + 1));
  }, 120_000);

  it('takes a retried publish of the same event for a success, not a conflict', async () => {
    const created = sampleRunCreated(newId('agent'));
    const from: StoredRunEvent = { event: created, streamSeq: await stores[0].create(created) };
    const same = draft(0);
    const [first] = await stores[0].appendAfter(from, [same]);
    const [again] = await stores[1].appendAfter(from, [same]);
    expect(again.streamSeq).toBe(first.streamSeq);
  });
});
