import { headers } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { EVENT_TYPE_HEADER, approvalTimerSubject, type RunEvent } from '@lrs/contracts';

/**
 * Durable timers, one JetStream message each on the RUN_TIMERS stream (docs/run-path.md). The
 * approval-timers consumer holds a timer back with a delayed nak until it is due, so waiting
 * timers occupy only that consumer's pending window, never the run consumers'.
 */
export class RunTimers {
  constructor(private readonly js: JetStreamClient) {}

  /**
   * Arms the approval timeout of a run that paused with one: the timer carries the run's
   * RunFinished. Arming it again (a redelivered RunFinished) is a no-op within the duplicate window.
   */
  async armApprovalTimeout(finished: RunEvent<'RunFinished'>): Promise<void> {
    const hdrs = headers();
    hdrs.set(EVENT_TYPE_HEADER, finished.type);
    await this.js.publish(approvalTimerSubject(finished.runId), JSON.stringify(finished), { msgID: `approval-timeout:${finished.runId}`, headers: hdrs });
  }
}
