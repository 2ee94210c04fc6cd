import type { ApplyOutcome, ProjectableEvent } from '@lrs/read-model';

interface Pending {
  item: ProjectableEvent;
  resolve: (outcome: ApplyOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups events that arrive together into one transaction, in stream order, one transaction at
 * a time. A failing batch is retried event by event so one bad event cannot hold back the rest.
 *
 * A batch costs about ten statements whatever its size, so at light load, where events arrive one
 * by one, a batch per event made the projection (and Postgres) the costliest part of a run: the
 * first event of a batch waits up to `lingerMs` for others (the read model is off the run path,
 * so the wait delays no run, only what GET shows of a run a few milliseconds later).
 */
export class ProjectionBatcher {
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly applyBatch: (batch: ProjectableEvent[]) => Promise<ApplyOutcome[]>,
    private readonly maxBatch: number,
    private readonly lingerMs = 0,
  ) {}

  submit(item: ProjectableEvent): Promise<ApplyOutcome> {
    return new Promise<ApplyOutcome>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Let the rest of the current delivery burst, and what arrives within the linger, join the first batch.
    await new Promise((resolve) => (this.lingerMs > 0 ? setTimeout(resolve, this.lingerMs) : setImmediate(resolve)));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch).sort((a, b) => a.item.streamSeq - b.item.streamSeq);
      await this.flush(batch);
    }
    this.flushing = null;
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      const outcomes = await this.applyBatch(batch.map((p) => p.item));
      batch.forEach((p, index) => p.resolve(outcomes[index]));
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0].reject(batchError);
        return;
      }
      for (const p of batch) {
        try {
          const [outcome] = await this.applyBatch([p.item]);
          p.resolve(outcome);
        } catch (error) {
          p.reject(error);
        }
      }
    }
  }
}
