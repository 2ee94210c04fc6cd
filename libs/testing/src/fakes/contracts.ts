import { newId, type RunEvent, type RunEventDraft } from '@lrs/contracts';
import { enqueue, promote } from '@lrs/domain-run';
import { ConcurrencyConflict, StaleRead, type LaneStorage, type RunEventLog } from '@lrs/jetstream';
import { sampleRunCreated } from '../run-events';

/**
 * What every RunEventLog promises, as tests: the JetStream RunEventStore (integration test) and
 * the in-memory one (unit test) run these same cases, so a unit test on the fake proves what it
 * would prove on JetStream.
 */
export function describeRunEventLogContract(name: string, open: () => RunEventLog): void {
  describe(`${name}: the RunEventLog contract`, () => {
    const runCreated = (): RunEvent<'RunCreated'> => sampleRunCreated(newId('agent'));
    const started: RunEventDraft = { type: 'RunStarted', data: { startedAt: '2025-01-01T00:00:00.000Z', maxSteps: 5 } };
    const stepRequest = (): RunEventDraft => ({
      type: 'StepRequested',
      data: { stepId: newId('step'), stepIndex: 1, maxSteps: 5, requestedAt: '2025-01-01T00:00:00.000Z' },
    });

    it('creates a run once: a second create of the same run is a conflict', async () => {
      const log = open();
      const event = runCreated();
      const streamSeq = await log.create(event);
      await expect(log.create(event)).rejects.toBeInstanceOf(ConcurrencyConflict);
      expect(await log.latest(event.runId)).toEqual({ event, streamSeq });
      expect(await log.createdOf(event.runId, streamSeq)).toEqual(event);
      expect(await log.createdOf(event.runId)).toEqual(event);
    });

    it('appends behind the latest event only; a stale writer loses with ConcurrencyConflict', async () => {
      const log = open();
      const created = runCreated();
      const stored = { event: created, streamSeq: await log.create(created) };
      const [runStarted] = await log.appendAfter(stored, [started]);
      expect(runStarted.event).toMatchObject({ type: 'RunStarted', seq: 2, runId: created.runId, laneId: created.laneId });
      // The id names the position: two writers racing for it share it, and JetStream keeps one.
      expect(runStarted.event.id).toBe(`evt:${created.runId}:2`);
      await expect(log.appendAfter(stored, [stepRequest()])).rejects.toBeInstanceOf(ConcurrencyConflict);
      expect(await log.latest(created.runId)).toEqual(runStarted);
    });

    it('appends a chain in order, each behind the one before', async () => {
      const log = open();
      const created = runCreated();
      const stored = { event: created, streamSeq: await log.create(created) };
      const chain = await log.appendAfter(stored, [started, stepRequest()]);
      expect(chain.map((next) => [next.event.type, next.event.seq])).toEqual([
        ['RunStarted', 2],
        ['StepRequested', 3],
      ]);
      expect(chain[1].streamSeq).toBeGreaterThan(chain[0].streamSeq);
      expect(await log.nextOf(created.runId, stored.streamSeq + 1)).toEqual(chain[0]);
      expect(await log.at(chain[1].streamSeq)).toEqual(chain[1]);
    });

    it('keeps runs apart: another run moving on does not make this one stale', async () => {
      const log = open();
      const first = runCreated();
      const second = runCreated();
      const firstStored = { event: first, streamSeq: await log.create(first) };
      await log.appendAfter({ event: second, streamSeq: await log.create(second) }, [started]);
      const [appended] = await log.appendAfter(firstStored, [started]);
      expect(appended.event).toMatchObject({ runId: first.runId, seq: 2 });
    });

    it('refuses to answer with an older latest event than the caller holds', async () => {
      const log = open();
      const created = runCreated();
      const stored = { event: created, streamSeq: await log.create(created) };
      const [runStarted] = await log.appendAfter(stored, [started]);
      expect(await log.latest(created.runId, runStarted.streamSeq)).toEqual(runStarted);
      expect(await log.latest(created.runId, stored.streamSeq)).toEqual(runStarted);
      await expect(log.latest(created.runId, runStarted.streamSeq + 1)).rejects.toBeInstanceOf(StaleRead);
      await expect(log.latest(newId('run'), 1)).rejects.toBeInstanceOf(StaleRead);
    });

    it('knows nothing of an unknown run', async () => {
      const log = open();
      const runId = newId('run');
      expect(await log.latest(runId)).toBeNull();
      expect(await log.nextOf(runId, 1)).toBeNull();
      expect(await log.createdOf(runId)).toBeNull();
    });
  });
}

/** What every LaneStorage promises: the JetStream KV LaneStore and the in-memory one run these same cases. */
export function describeLaneStorageContract(name: string, open: () => Promise<LaneStorage>): void {
  describe(`${name}: the LaneStorage contract`, () => {
    it('starts every lane empty', async () => {
      const lanes = await open();
      expect(await lanes.read(newId('agent'))).toEqual({ active: null, waiting: [] });
    });

    it('concurrent enqueues from many writers keep every run exactly once, in creation order', async () => {
      const lanes = await open();
      const laneId = newId('agent');
      const entries = Array.from({ length: 25 }, (_, index) => ({ runId: newId('run'), createdSeq: 1000 + index }));
      await Promise.all([...entries].reverse().map((entry) => lanes.update(laneId, (lane) => enqueue(lane, entry))));
      const lane = await lanes.read(laneId);
      expect(lane.active).toBeNull();
      expect(lane.waiting.map((entry) => entry.runId)).toEqual(entries.map((entry) => entry.runId));

      await Promise.all([1, 2, 3, 4].map(() => lanes.update(laneId, promote)));
      const promoted = await lanes.read(laneId);
      expect(promoted.active?.runId).toBe(entries[0].runId);
      expect(promoted.waiting).toHaveLength(entries.length - 1);
    });

    it('answers an update with the state it wrote, and an unchanged state as it was', async () => {
      const lanes = await open();
      const laneId = newId('agent');
      const entry = { runId: newId('run'), createdSeq: 7 };
      const written = await lanes.update(laneId, (lane) => enqueue(lane, entry));
      expect(written).toEqual(await lanes.read(laneId));
      expect(await lanes.update(laneId, (lane) => lane)).toEqual(written);
    });
  });
}
