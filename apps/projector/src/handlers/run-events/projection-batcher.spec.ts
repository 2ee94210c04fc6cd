import { buildRunEvent, type AnyRunEvent } from '@lrs/contracts';
import type { ApplyOutcome, ProjectableEvent } from '@lrs/read-model';
import { ProjectionBatcher } from './projection-batcher';

const NOW = '2025-01-01T00:00:00.000Z';

function item(streamSeq: number, runId = `run-${streamSeq}`): ProjectableEvent {
  const event = buildRunEvent(
    { runId, seq: 2, organizationId: 'org-1', agentId: 'agent-1', laneId: 'agent-1' },
    'RunStarted',
    { startedAt: NOW, maxSteps: 1 },
    NOW,
  ) as AnyRunEvent;
  return { event, streamSeq };
}

const seqs = (batch: ProjectableEvent[]) => batch.map((i) => i.streamSeq);
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** An apply callback that records its calls and can be told which stream sequences fail. */
function recordingApply(options: { failing?: Set<number>; outcome?: (i: ProjectableEvent) => ApplyOutcome } = {}) {
  const calls: number[][] = [];
  let running = 0;
  let maxRunning = 0;
  const apply = async (batch: ProjectableEvent[]): Promise<ApplyOutcome[]> => {
    calls.push(seqs(batch));
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      await tick();
      const bad = batch.find((i) => options.failing?.has(i.streamSeq));
      if (bad) throw new Error(`cannot apply ${bad.streamSeq}`);
      return batch.map(options.outcome ?? (() => 'applied'));
    } finally {
      running--;
    }
  };
  return { apply, calls, maxRunning: () => maxRunning };
}

describe('ProjectionBatcher', () => {
  it('applies submits of one burst in a single call', async () => {
    const { apply, calls } = recordingApply();
    const batcher = new ProjectionBatcher(apply, 100);

    const outcomes = await Promise.all([1, 2, 3, 4].map((s) => batcher.submit(item(s))));

    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(calls).toEqual([[1, 2, 3, 4]]);
  });

  it('with a linger, gathers events that arrive one by one within it into one call', async () => {
    const { apply, calls } = recordingApply();
    const batcher = new ProjectionBatcher(apply, 100, 1_000);
    const submits: Promise<ApplyOutcome>[] = [];
    for (const s of [1, 2, 3]) {
      submits.push(batcher.submit(item(s)));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(calls).toEqual([]);
    expect(await Promise.all(submits)).toEqual(['applied', 'applied', 'applied']);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('sorts a batch by stream sequence and resolves each submit with its own outcome', async () => {
    const outcome = (i: ProjectableEvent): ApplyOutcome => (i.streamSeq === 7 ? 'gap' : i.streamSeq === 3 ? 'duplicate' : 'applied');
    const { apply, calls } = recordingApply({ outcome });
    const batcher = new ProjectionBatcher(apply, 100);

    const [r9, r3, r7, r5] = await Promise.all([9, 3, 7, 5].map((s) => batcher.submit(item(s))));

    expect(calls).toEqual([[3, 5, 7, 9]]);
    expect({ r9, r3, r7, r5 }).toEqual({ r9: 'applied', r3: 'duplicate', r7: 'gap', r5: 'applied' });
  });

  it('splits a burst into calls of at most maxBatch, in arrival order', async () => {
    const { apply, calls } = recordingApply();
    const batcher = new ProjectionBatcher(apply, 2);

    await Promise.all([5, 4, 3, 2, 1].map((s) => batcher.submit(item(s))));

    expect(calls).toEqual([[4, 5], [2, 3], [1]]);
  });

  it('never runs two apply calls at once, even when submits keep arriving', async () => {
    const { apply, calls, maxRunning } = recordingApply();
    const batcher = new ProjectionBatcher(apply, 2);

    const pending: Promise<ApplyOutcome>[] = [];
    for (let s = 1; s <= 12; s++) {
      pending.push(batcher.submit(item(s)));
      if (s % 3 === 0) await tick();
    }
    await Promise.all(pending);

    expect(maxRunning()).toBe(1);
    expect(calls.flat().sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    for (const call of calls) expect(call.length).toBeLessThanOrEqual(2);
  });

  it('starts a new batch for a submit that arrives after the previous one finished', async () => {
    const { apply, calls } = recordingApply();
    const batcher = new ProjectionBatcher(apply, 100);

    await batcher.submit(item(1));
    await batcher.submit(item(2));

    expect(calls).toEqual([[1], [2]]);
  });

  it('retries a failed batch one event at a time, so only the bad event rejects', async () => {
    const { apply, calls } = recordingApply({ failing: new Set([2]) });
    const batcher = new ProjectionBatcher(apply, 100);

    const results = await Promise.allSettled([3, 1, 2].map((s) => batcher.submit(item(s))));

    expect(calls).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'applied' });
    expect(results[1]).toEqual({ status: 'fulfilled', value: 'applied' });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: new Error('cannot apply 2') });
  });

  it('rejects a single-event batch with its error without retrying it', async () => {
    const { apply, calls } = recordingApply({ failing: new Set([1]) });
    const batcher = new ProjectionBatcher(apply, 100);

    await expect(batcher.submit(item(1))).rejects.toThrow('cannot apply 1');
    expect(calls).toEqual([[1]]);
  });

  it('keeps working after a failure', async () => {
    const { apply, calls } = recordingApply({ failing: new Set([1]) });
    const batcher = new ProjectionBatcher(apply, 100);

    await expect(batcher.submit(item(1))).rejects.toThrow();
    await expect(batcher.submit(item(2))).resolves.toBe('applied');
    expect(calls).toEqual([[1], [2]]);
  });

  it('handles an apply callback that throws synchronously', async () => {
    const batcher = new ProjectionBatcher((batch) => {
      if (batch.some((i) => i.streamSeq === 1)) throw new Error('sync failure');
      return Promise.resolve(batch.map((): ApplyOutcome => 'applied'));
    }, 100);

    const results = await Promise.allSettled([1, 2].map((s) => batcher.submit(item(s))));

    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });
});
