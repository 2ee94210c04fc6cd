import { Kvm, type KV } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import { RUN_LANES_BUCKET } from '@lrs/contracts';
import { EMPTY_LANE, type LaneState } from '@lrs/domain-run';

const MAX_CAS_ATTEMPTS = 50;

/** The per-lane queues: the JetStream KV LaneStore, or the in-memory one unit tests use (libs/testing). */
export interface LaneStorage {
  read(laneId: string): Promise<LaneState>;
  /** Applies `change` atomically against concurrent writers; returns the resulting state. */
  update(laneId: string, change: (lane: LaneState) => LaneState): Promise<LaneState>;
}

/**
 * Lane state per agent (or conversation) in a JetStream KV bucket, changed only by
 * compare-and-set on the entry's revision, so orchestrator replicas can race safely.
 */
export class LaneStore implements LaneStorage {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient): Promise<LaneStore> {
    return new LaneStore(await new Kvm(js).open(RUN_LANES_BUCKET));
  }

  async read(laneId: string): Promise<LaneState> {
    const entry = await this.kv.get(laneId);
    return entry && entry.operation === 'PUT' && entry.length > 0 ? (entry.json<LaneState>()) : EMPTY_LANE;
  }

  /** Applies `change` atomically; returns the resulting state (unchanged state costs no write). */
  async update(laneId: string, change: (lane: LaneState) => LaneState): Promise<LaneState> {
    // Lane ids (agent-<uuid>, conv-<uuid>) are valid KV keys as they are.
    const key = laneId;
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.kv.get(key);
      const current = entry && entry.operation === 'PUT' && entry.length > 0 ? entry.json<LaneState>() : EMPTY_LANE;
      const next = change(current);
      if (next === current) return current;
      try {
        if (entry) await this.kv.update(key, JSON.stringify(next), entry.revision);
        else await this.kv.create(key, JSON.stringify(next));
        return next;
      } catch (error) {
        if (!isRevisionConflict(error)) throw error;
      }
    }
    throw new Error(`lane ${laneId}: gave up after ${MAX_CAS_ATTEMPTS} concurrent updates`);
  }
}

export function isRevisionConflict(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /wrong last sequence|key exists/i.test(message);
}
