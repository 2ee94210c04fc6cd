import type { NatsConnection } from '@nats-io/transport-node';

const SUBJECT = 'notices.run-cancelled';

/**
 * A cancelled run's id, announced over core NATS to every llm-worker at once, so a model call in
 * flight for it is aborted. One process-wide subscription per worker instead of one per step. Not
 * durable: a notice lost on the way only means the call runs to its end, and its step's append
 * then loses against the RunFinished the cancel appended first.
 */
export class CancelNotices {
  constructor(private readonly nc: NatsConnection) {}

  publish(runId: string): void {
    this.nc.publish(SUBJECT, runId);
  }

  subscribe(listener: (runId: string) => void): () => void {
    const subscription = this.nc.subscribe(SUBJECT, {
      callback: (error, message) => {
        if (!error) listener(message.string());
      },
    });
    return () => subscription.unsubscribe();
  }
}
