import { EMPTY_LANE, enqueue, enqueueAndGrant, promote, release, type LaneEntry, type LaneState } from './lane';

const entry = (runId: string, createdSeq: number): LaneEntry => ({ runId, createdSeq });
const ids = (entries: LaneEntry[]) => entries.map((e) => e.runId);

describe('enqueue', () => {
  it('adds a run to an empty lane as waiting, not active', () => {
    const lane = enqueue(EMPTY_LANE, entry('a', 10));
    expect(lane).toEqual({ active: null, waiting: [entry('a', 10)], latestRunId: 'a' });
    expect(EMPTY_LANE).toEqual({ active: null, waiting: [] });
  });

  it('orders waiting runs by createdSeq whatever order they arrive in', () => {
    let lane: LaneState = EMPTY_LANE;
    for (const e of [entry('c', 30), entry('a', 10), entry('d', 40), entry('b', 20)]) lane = enqueue(lane, e);
    expect(ids(lane.waiting)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('returns the same lane when the run is already waiting', () => {
    const lane = enqueue(enqueue(EMPTY_LANE, entry('a', 10)), entry('b', 20));
    expect(enqueue(lane, entry('a', 10))).toBe(lane);
    expect(enqueue(lane, entry('a', 99))).toBe(lane);
  });

  it('returns the same lane when the run is already active', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [] };
    expect(enqueue(lane, entry('a', 10))).toBe(lane);
  });

  it('keeps the active run and does not mutate the input lane', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [entry('c', 30)] };
    const next = enqueue(lane, entry('b', 20));
    expect(next.active).toEqual(entry('a', 10));
    expect(ids(next.waiting)).toEqual(['b', 'c']);
    expect(ids(lane.waiting)).toEqual(['c']);
  });
});

describe('release', () => {
  it('clears the active run and keeps the waiting ones', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [entry('b', 20)] };
    expect(release(lane, 'a')).toEqual({ active: null, waiting: [entry('b', 20)] });
  });

  it('removes a waiting run and keeps the active one', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [entry('b', 20), entry('c', 30)] };
    expect(release(lane, 'b')).toEqual({ active: entry('a', 10), waiting: [entry('c', 30)] });
  });

  it('returns the same lane when the run is not in it', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [entry('b', 20)] };
    expect(release(lane, 'zzz')).toBe(lane);
    expect(release(EMPTY_LANE, 'a')).toBe(EMPTY_LANE);
  });

  it('does not promote the next run by itself', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [entry('b', 20)] };
    expect(release(lane, 'a').active).toBeNull();
  });
});

describe('promote', () => {
  it('grants the lane to the oldest waiting run', () => {
    const lane: LaneState = { active: null, waiting: [entry('a', 10), entry('b', 20)] };
    expect(promote(lane)).toEqual({ active: entry('a', 10), waiting: [entry('b', 20)] });
  });

  it('returns the same lane while a run is active', () => {
    const lane: LaneState = { active: entry('a', 10), waiting: [entry('b', 20)] };
    expect(promote(lane)).toBe(lane);
  });

  it('returns the same lane when nothing waits', () => {
    expect(promote(EMPTY_LANE)).toBe(EMPTY_LANE);
  });
});

describe('lane invariants under random interleavings', () => {
  // Small deterministic PRNG (mulberry32) so a failure is reproducible from its seed.
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it.each(Array.from({ length: 50 }, (_, i) => i + 1))('seed %i: no run twice, never two runs holding the lane', (seed) => {
    const random = rng(seed);
    const runs = Array.from({ length: 6 }, (_, i) => entry(`run-${i}`, 100 + i));
    const granted = new Set<string>();
    let lane: LaneState = EMPTY_LANE;

    for (let step = 0; step < 300; step++) {
      const before = lane;
      const roll = random();
      const run = runs[Math.floor(random() * runs.length)];
      if (roll < 0.4) lane = enqueue(lane, run);
      else if (roll < 0.55) lane = release(lane, run.runId);
      else if (roll < 0.7 && lane.active) lane = release(lane, lane.active.runId);
      else lane = promote(lane);

      const all = [...(lane.active ? [lane.active.runId] : []), ...ids(lane.waiting)];
      expect(new Set(all).size).toBe(all.length);
      const seqs = lane.waiting.map((w) => w.createdSeq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      // No single transition hands the lane from one run to another: the active run must be
      // released before the next is granted, and the grant goes to the oldest waiting run.
      if (before.active && lane.active) expect(lane.active.runId).toBe(before.active.runId);
      if (!before.active && lane.active) {
        expect(lane.active).toEqual(before.waiting[0]);
        granted.add(lane.active.runId);
      }
    }
    // The walk must actually have exercised promotion, or the checks above prove little.
    expect(granted.size).toBeGreaterThan(1);
  });
});

describe('enqueueAndGrant', () => {
  it('grants an idle lane to the run it queues', () => {
    expect(enqueueAndGrant(EMPTY_LANE, entry('a', 10))).toEqual({ active: entry('a', 10), waiting: [], latestRunId: 'a' });
  });

  it('queues behind an active run, and changes nothing for a run already there', () => {
    const busy = enqueueAndGrant(EMPTY_LANE, entry('a', 10));
    const queued = enqueueAndGrant(busy, entry('b', 20));
    expect(queued).toEqual({ active: entry('a', 10), waiting: [entry('b', 20)], latestRunId: 'b' });
    expect(enqueueAndGrant(queued, entry('b', 20))).toBe(queued);
    expect(enqueueAndGrant(queued, entry('a', 10))).toBe(queued);
  });
});
