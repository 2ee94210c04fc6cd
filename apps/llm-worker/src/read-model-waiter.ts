import { Injectable } from '@nestjs/common';
import { RetryLater } from '@lrs/jetstream';
import { ProjectionNotifier, RunQueries } from '@lrs/read-model';

/**
 * The prompt is built from the read model, which trails the event log by a few milliseconds.
 * A step waits (briefly, in process) until the projection shows everything before it: the
 * run's own earlier events and the end of the agent's previous run. If that takes longer, the
 * message goes back to the stream to be retried instead of holding a worker slot.
 */
@Injectable()
export class ReadModelWaiter {
  constructor(
    private readonly runs: RunQueries,
    private readonly projection: ProjectionNotifier,
  ) {}

  async untilRunReady(runId: string, minVersion: number, maxWaitMs: number): Promise<void> {
    const ready = await this.projection.until(runId, minVersion, async () => ((await this.runs.readyForStep(runId, minVersion)) ? true : null), maxWaitMs);
    if (!ready) throw new RetryLater(250, `read model has not caught up with run ${runId} (needs v${minVersion})`);
  }
}
