import { EMPTY_LANE, type LaneState } from '@lrs/domain-run';
import type { LaneStorage } from '@lrs/jetstream';

/**
 * Lanes in memory, for unit tests. JetStream's LaneStore makes each update atomic by
 * compare-and-set; here every `change` runs to completion before another starts (one event
 * loop), which is the same guarantee. The shared contract test (`describeLaneStorageContract`)
 * runs against both.
 */
export class InMemoryLaneStore implements LaneStorage {
  private readonly lanes = new Map<string, LaneState>();

  async read(laneId: string): Promise<LaneState> {
    return this.lanes.get(laneId) ?? EMPTY_LANE;
  }

  async update(laneId: string, change: (lane: LaneState) => LaneState): Promise<LaneState> {
    // Read, change and write with no await between them, so no other update interleaves.
    const current = this.lanes.get(laneId) ?? EMPTY_LANE;
    const next = change(current);
    if (next !== current) this.lanes.set(laneId, next);
    return next;
  }
}
