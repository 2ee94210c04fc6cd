import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMER_POLICIES } from '@lrs/jetstream';
import { nowMs } from './util';

export interface BacklogSample {
  atMs: number;
  /** Events each durable consumer has not acknowledged yet (pending + delivered unacked). */
  backlog: Record<string, number>;
}

/** Samples how far behind its stream (the run log, or its work queue) each service's durable consumer is. */
export class ConsumerBacklogSampler {
  readonly samples: BacklogSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const atMs = nowMs();
      const backlog: Record<string, number> = {};
      await Promise.all(
        Object.entries(CONSUMER_POLICIES).map(async ([key, policy]) => {
          const info = await this.jsm.consumers.info(policy.stream, policy.name);
          backlog[key] = info.num_pending + info.num_ack_pending;
        }),
      );
      this.samples.push({ atMs, backlog });
    } catch {
      // a missed sample is fine
    } finally {
      this.busy = false;
    }
  }
}
