import type { JetStreamManager } from '@nats-io/jetstream';
import { CONSUMER_POLICIES } from './provisioning';

/**
 * Run events the run path's consumers (the orchestrator's on the run log, the llm-worker's on its
 * work queue) have not finished:
 * waiting to be delivered or delivered and not yet acknowledged. The gateway reads it to refuse
 * new runs past a bound, so that accepted work keeps its latency instead of queueing without bound.
 */
export class RunBacklog {
  constructor(private readonly jsm: JetStreamManager) {}

  async pending(): Promise<number> {
    const infos = await Promise.all([CONSUMER_POLICIES.orchestrator, CONSUMER_POLICIES.llmWorker].map((policy) => this.jsm.consumers.info(policy.stream, policy.name)));
    return infos.reduce((sum, info) => sum + info.num_pending + info.num_ack_pending, 0);
  }
}
