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

/**
 * Work items: the run events that one service acts on, copied from the run log to a work queue of
 * their own (docs/run-path.md, "Work queues"), so that the llm-worker receives the StepRequested
 * events and the callback dispatcher the RunFinished events, not every event of every run. A copy
 * carries the event as the log stores it and, in RUN_STREAM_SEQ_HEADER, its position in the log.
 */
export const RUN_WORK_STREAM = 'RUN_WORK';
export const RUN_WORK_SUBJECTS = 'work.>';
/** The work queue of each event type that has one, and the consumer that takes it. */
export const WORK_QUEUES = {
  StepRequested: 'steps',
  RunFinished: 'finished',
} as const;
export type WorkItemType = keyof typeof WORK_QUEUES;

export function isWorkItemType(type: string): type is WorkItemType {
  return Object.prototype.hasOwnProperty.call(WORK_QUEUES, type);
}

export function workSubject(type: WorkItemType, runId: string): string {
  return `work.${WORK_QUEUES[type]}.${runId}`;
}

/** The filter of a work queue's consumer. */
export function workQueueFilter(type: WorkItemType): string {
  return `work.${WORK_QUEUES[type]}.>`;
}

/** A work item's position in the run log (the stream sequence of the event it copies). */
export const RUN_STREAM_SEQ_HEADER = 'Run-Stream-Seq';

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
