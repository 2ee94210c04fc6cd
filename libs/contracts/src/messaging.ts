/**
 * JetStream names shared by every service. One subject per run (`runs.<runId>`, see
 * docs/run-path.md) so appends can use per-subject optimistic concurrency on nats-server 2.9; the
 * event type travels in a header so consumers skip foreign events without parsing.
 */
export const RUN_EVENTS_STREAM = 'RUN_EVENTS';
export const RUN_EVENTS_SUBJECTS = 'runs.>';
export const DLQ_STREAM = 'DLQ';
/**
 * Durable timers (approval timeouts): one message per pending timer, held by its own consumer
 * until due, so that thousands of waiting timers never occupy the run consumers' pending windows.
 */
export const RUN_TIMERS_STREAM = 'RUN_TIMERS';
export const RUN_TIMERS_SUBJECTS = 'timers.>';

export function approvalTimerSubject(runId: string): string {
  return `timers.approval.${runId}`;
}
export const RUN_LANES_BUCKET = 'run-lanes';
/** Object store for run event payloads too large for a NATS message (claim check). */
export const RUN_PAYLOADS_BUCKET = 'run-payloads';
/** Idempotency-Key claims of run-creating requests, kept for a day. */
export const IDEMPOTENCY_KEYS_BUCKET = 'idempotency-keys';

export const EVENT_TYPE_HEADER = 'Run-Event-Type';
/**
 * A digest of the event's type and data. The Nats-Msg-Id names a run's position only, so two
 * writers racing for one position share it; on a duplicate, the digest tells the writer whether
 * the stored event is its own (a retried publish) or another writer's (a lost race).
 */
export const EVENT_DIGEST_HEADER = 'Run-Event-Digest';
export const TRACEPARENT_HEADER = 'traceparent';

export function runSubject(runId: string): string {
  return `runs.${runId}`;
}

export function dlqSubject(consumer: string): string {
  return `dlq.${consumer}`;
}

export const CONSUMERS = {
  orchestrator: 'orchestrator-run-events',
  projector: 'projector-read-model',
  llmWorker: 'llm-worker-steps',
  callbackDispatcher: 'callback-dispatcher-run-finished',
} as const;
/** The consumer of RUN_TIMERS_STREAM (in the orchestrator). */
export const APPROVAL_TIMERS_CONSUMER = 'orchestrator-approval-timers';
export type ConsumerName = (typeof CONSUMERS)[keyof typeof CONSUMERS];
