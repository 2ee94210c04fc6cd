import type { AnyRunEvent, RunEvent, RunEventDraft } from '@lrs/contracts';
import { ConcurrencyConflict, eventAfter, eventDigest, notOlderThan, type RunEventLog, type StoredRunEvent } from '@lrs/jetstream';

/**
 * The run event log in memory, for unit tests of the logic above it. It keeps the two promises
 * of the JetStream RunEventStore that the run path relies on (the shared contract test,
 * `describeRunEventLogContract`, runs against both): an append is conditional on the run's latest
 * event, and an event id stored before is not stored again.
 */
export class InMemoryRunEventStore implements RunEventLog {
  private readonly stream: StoredRunEvent[] = [];
  private readonly byId = new Map<string, StoredRunEvent>();

  async create(event: RunEvent<'RunCreated'>): Promise<number> {
    if (this.byId.has(event.id) || this.lastOf(event.runId)) throw new ConcurrencyConflict(event.runId, 0);
    return this.store(event).streamSeq;
  }

  async appendAfter(after: StoredRunEvent, drafts: RunEventDraft[]): Promise<StoredRunEvent[]> {
    const stored: StoredRunEvent[] = [];
    let previous = after;
    for (const draft of drafts) {
      const event = eventAfter(previous.event, draft);
      // As the JetStream store: the position is taken by this same event (a retried publish), which
      // answers its first position, or by another writer's, which won.
      const taken = this.byId.get(event.id);
      if (taken && eventDigest(taken.event) === eventDigest(event)) previous = taken;
      else if (taken) throw new ConcurrencyConflict(event.runId, previous.streamSeq);
      else if (this.lastOf(event.runId)?.streamSeq !== previous.streamSeq) throw new ConcurrencyConflict(event.runId, previous.streamSeq);
      else previous = this.store(event);
      stored.push(previous);
    }
    return stored;
  }

  async latest(runId: string, atLeastStreamSeq = 0): Promise<StoredRunEvent | null> {
    return notOlderThan(runId, this.lastOf(runId) ?? null, atLeastStreamSeq);
  }

  async at(streamSeq: number): Promise<StoredRunEvent | null> {
    return this.stream[streamSeq - 1] ?? null;
  }

  async nextOf(runId: string, fromStreamSeq: number): Promise<StoredRunEvent | null> {
    return this.stream.find((stored) => stored.streamSeq >= fromStreamSeq && stored.event.runId === runId) ?? null;
  }

  async createdOf(runId: string, createdStreamSeq?: number): Promise<RunEvent<'RunCreated'> | null> {
    const stored = createdStreamSeq ? await this.at(createdStreamSeq) : await this.nextOf(runId, 1);
    return stored?.event.type === 'RunCreated' && stored.event.runId === runId ? stored.event : null;
  }

  /** Every event of the run, oldest first (what a test asserts on). */
  history(runId: string): AnyRunEvent[] {
    return this.stream.filter((stored) => stored.event.runId === runId).map((stored) => stored.event);
  }

  private lastOf(runId: string): StoredRunEvent | undefined {
    for (let index = this.stream.length - 1; index >= 0; index--) if (this.stream[index].event.runId === runId) return this.stream[index];
    return undefined;
  }

  private store(event: AnyRunEvent): StoredRunEvent {
    const stored = { event, streamSeq: this.stream.length + 1 };
    this.stream.push(stored);
    this.byId.set(event.id, stored);
    return stored;
  }
}
