import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMERS, RUN_EVENTS_STREAM } from '@lrs/contracts';

/**
 * Run events the run path's consumers (the orchestrator's and the llm-worker's) have not finished:
 * waiting to be delivered or delivered and not yet acknowledged. The gateway reads it to refuse
 * new runs past a bound, so that accepted work keeps its latency instead of queueing without bound.
 */
export class RunBacklog {
  constructor(private readonly jsm: JetStreamManager) {}

  async pending(): Promise<number> {
    const infos = await Promise.all([CONSUMERS.orchestrator, CONSUMERS.llmWorker].map((name) => this.jsm.consumers.info(RUN_EVENTS_STREAM, name)));
    return infos.reduce((sum, info) => sum + info.num_pending + info.num_ack_pending, 0);
  }
}
