import { randomUUID } from 'node:crypto';
import { describeLaneStorageContract, startNatsCluster, type NatsCluster } from '@lrs/testing';
import type { LaneState } from '@lrs/domain-run';
import { RUN_LANES_BUCKET, newId } from '@lrs/contracts';
import { connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { ConditionalBucket } from './kv-compare-and-set';
import { LaneStore, type LaneStorage } from './lane-store';
import { IdempotencyKeys } from './idempotency-keys';

const ROUNDS = 30;
const WRITERS = 6;

/**
 * On a 3-node cluster with R3 buckets, writers on different nodes race to change a key from the
 * same revision. nats-server 2.9 before 2.9.21 lets several of them through when only the
 * expected revision guards the write (the KV client's `update`), so lanes lost the runs one
 * writer queued while another released a run; this fails unless the revision is also the
 * message id.
 */
describe('compare-and-set on a clustered KV bucket: one write per revision, whoever races', () => {
  let cluster: NatsCluster;
  let contexts: JetStreamContext[];

  beforeAll(async () => {
    cluster = await startNatsCluster({ network: 'loopback' });
    contexts = await Promise.all(cluster.nodes.map((node) => connectJetStream({ servers: node.url, name: `kv-cluster-int-spec-${node.name}` })));
    await provisionJetStream(contexts[0].jsm, contexts[0].js, { replicas: 3, runEventsMaxAgeMs: 0 });
  }, 60_000);
  afterAll(async () => {
    await Promise.all((contexts ?? []).map((context) => context.nc.close()));
    await cluster?.stop();
  });

  it(`lets exactly one of ${WRITERS} writers on three nodes win each of ${ROUNDS} revisions`, async () => {
    const buckets = await Promise.all(contexts.map((context) => ConditionalBucket.open(context.js, RUN_LANES_BUCKET)));
    const key = newId('agent');
    const winners: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { revision } = await buckets[0].read(key);
      const results = await Promise.all(Array.from({ length: WRITERS }, (_, writer) => buckets[writer % buckets.length].compareAndSet(key, `round ${round} writer ${writer}`, revision)));
      winners.push(results.filter(Boolean).length);
    }
    expect(winners).toEqual(Array.from({ length: ROUNDS }, () => 1));
  }, 60_000);

  it('takes a retried write of the same value at the same revision for a success', async () => {
    const [bucket, other] = await Promise.all(contexts.slice(0, 2).map((context) => ConditionalBucket.open(context.js, RUN_LANES_BUCKET)));
    const key = newId('agent');
    expect(await bucket.compareAndSet(key, 'same', 0)).toBe(true);
    expect(await other.compareAndSet(key, 'same', 0)).toBe(true);
    expect(await other.compareAndSet(key, 'different', 0)).toBe(false);
    expect(await bucket.read(key)).toEqual({ value: 'same', revision: expect.any(Number) });
  });

  it('gives an Idempotency-Key to one body only, whichever node each request reaches', async () => {
    const keys = await Promise.all(contexts.map((context) => IdempotencyKeys.open(context.js)));
    for (let round = 0; round < 10; round++) {
      const keyId = randomUUID().replace(/-/g, '');
      const claims = await Promise.all(Array.from({ length: WRITERS }, (_, writer) => keys[writer % keys.length].claim(keyId, `body ${writer}`, `run-${writer}`)));
      expect(claims.filter((claim) => claim.ok)).toHaveLength(1);
    }
  });

  // Every update goes to the next node in turn, as orchestrator replicas and gateways do.
  describeLaneStorageContract('LaneStore with writers on every node of a cluster', async () => {
    const stores = await Promise.all(contexts.map((context) => LaneStore.open(context.js)));
    let next = 0;
    const spread: LaneStorage = {
      read: (laneId) => stores[0].read(laneId),
      update: (laneId, change: (lane: LaneState) => LaneState) => stores[next++ % stores.length].update(laneId, change),
    };
    return spread;
  });
});
