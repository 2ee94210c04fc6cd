import type { JetStreamClient } from '@nats-io/jetstream';
import { RUN_LANES_BUCKET } from '@lrs/contracts';
import { EMPTY_LANE, type LaneState } from '@lrs/domain-run';
import { ConditionalBucket, type Revisioned } from './kv-compare-and-set';

const MAX_CAS_ATTEMPTS = 50;

/** The per-lane queues: the JetStream KV LaneStore, or the in-memory one unit tests use (libs/testing). */
export interface LaneStorage {
  read(laneId: string): Promise<LaneState>;
  /** Applies `change` atomically against concurrent writers; returns the resulting state. */
  update(laneId: string, change: (lane: LaneState) => LaneState): Promise<LaneState>;
}

/**
 * Lane state per agent (or conversation) in a JetStream KV bucket, changed only by
 * compare-and-set on the entry's revision (ConditionalBucket, which holds on a clustered bucket
 * too), so orchestrator replicas and gateways can race safely.
 */
export class LaneStore implements LaneStorage {
  private constructor(private readonly bucket: ConditionalBucket) {}

  static async open(js: JetStreamClient): Promise<LaneStore> {
    return new LaneStore(await ConditionalBucket.open(js, RUN_LANES_BUCKET));
  }

  async read(laneId: string): Promise<LaneState> {
    return laneOf(await this.bucket.read(laneId));
  }

  /** Applies `change` atomically; returns the resulting state (unchanged state costs no write). */
  async update(laneId: string, change: (lane: LaneState) => LaneState): Promise<LaneState> {
    // Lane ids (agent-<uuid>, conv-<uuid>) are valid KV keys as they are.
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.bucket.read(laneId);
      const current = laneOf(entry);
      const next = change(current);
      if (next === current) return current;
      if (await this.bucket.compareAndSet(laneId, JSON.stringify(next), entry.revision)) return next;
    }
    throw new Error(`lane ${laneId}: gave up after ${MAX_CAS_ATTEMPTS} concurrent updates`);
  }
}

function laneOf(entry: Revisioned): LaneState {
  return entry.value ? (JSON.parse(entry.value) as LaneState) : EMPTY_LANE;
}
