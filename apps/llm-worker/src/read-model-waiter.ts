import { Injectable } from '@nestjs/common';
import { RetryLater } from '@lrs/jetstream';
import { AgentStore, RunQueries } from '@lrs/read-model';

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
    private readonly agents: AgentStore,
  ) {}

  async untilRunReady(runId: string, agentId: string, minVersion: number, maxWaitMs: number): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      const version = await this.runs.currentVersion(runId);
      if (version !== null && version >= minVersion && !(await this.agents.otherRunStillRunning(agentId, runId))) return;
      if (Date.now() >= deadline) throw new RetryLater(250, `read model has not caught up with run ${runId} (v${version ?? 0} < v${minVersion})`);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
