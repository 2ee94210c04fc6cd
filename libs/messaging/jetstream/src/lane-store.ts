import type { JetStreamClient } from '@nats-io/jetstream';
import { RUN_LANES_BUCKET } from '@lrs/contracts';
import { EMPTY_LANE, type LaneState } from '@lrs/domain-run';
import { BoundedMemory } from './bounded-memory';
import { ConditionalBucket, type Revisioned } from './kv-compare-and-set';

const MAX_CAS_ATTEMPTS = 50;
/** Lanes whose last entry this process remembers (a few hundred bytes each). */
const LAST_SEEN_LANES = 20_000;

export interface LaneUpdateOptions {
  /**
   * Start from the entry this process last read or wrote for the lane instead of reading it:
   * the compare-and-set checks that entry's revision, so a lane another writer moved since
   * costs a lost write and a read (as a race does), never a wrong state. For the writer that
   * usually touched the lane last (the orchestrator releasing the run it started); an update
   * that changes nothing on the remembered entry reads the lane to be sure.
   */
  fromLastSeen?: boolean;
}

/** The per-lane queues: the JetStream KV LaneStore, or the in-memory one unit tests use (libs/testing). */
export interface LaneStorage {
  read(laneId: string): Promise<LaneState>;
  /** Applies `change` atomically against concurrent writers; returns the resulting state. */
  update(laneId: string, change: (lane: LaneState) => LaneState, options?: LaneUpdateOptions): Promise<LaneState>;
}

/**
 * Lane state per agent (or conversation) in a JetStream KV bucket, changed only by
 * compare-and-set on the entry's revision (ConditionalBucket, which holds on a clustered bucket
 * too), so orchestrator replicas and gateways can race safely.
 */
export class LaneStore implements LaneStorage {
  private readonly lastSeen = new BoundedMemory<string, Revisioned>(LAST_SEEN_LANES);

  private constructor(private readonly bucket: ConditionalBucket) {}

  static async open(js: JetStreamClient): Promise<LaneStore> {
    return new LaneStore(await ConditionalBucket.open(js, RUN_LANES_BUCKET));
  }

  async read(laneId: string): Promise<LaneState> {
    return laneOf(await this.readEntry(laneId));
  }

  /** Applies `change` atomically; returns the resulting state (unchanged state costs no write). */
  async update(laneId: string, change: (lane: LaneState) => LaneState, options: LaneUpdateOptions = {}): Promise<LaneState> {
    let remembered = options.fromLastSeen ? this.lastSeen.get(laneId) : undefined;
    // Lane ids (agent-<uuid>, conv-<uuid>) are valid KV keys as they are.
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const entry = remembered ?? (await this.readEntry(laneId));
      const fromMemory = remembered !== undefined;
      remembered = undefined;
      const current = laneOf(entry);
      const next = change(current);
      if (next === current) {
        if (fromMemory) continue;
        return current;
      }
      const value = JSON.stringify(next);
      const revision = await this.bucket.compareAndSet(laneId, value, entry.revision);
      if (revision !== null) {
        this.lastSeen.set(laneId, { value, revision });
        return next;
      }
    }
    throw new Error(`lane ${laneId}: gave up after ${MAX_CAS_ATTEMPTS} concurrent updates`);
  }

  private async readEntry(laneId: string): Promise<Revisioned> {
    const entry = await this.bucket.read(laneId);
    this.lastSeen.set(laneId, entry);
    return entry;
  }
}

function laneOf(entry: Revisioned): LaneState {
  return entry.value ? (JSON.parse(entry.value) as LaneState) : EMPTY_LANE;
}
