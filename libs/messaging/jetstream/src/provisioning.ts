import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  APPROVAL_TIMERS_CONSUMER,
  CONSUMERS,
  DLQ_STREAM,
  IDEMPOTENCY_KEYS_BUCKET,
  RUN_PAYLOADS_BUCKET,
  RUN_EVENTS_STREAM,
  RUN_EVENTS_SUBJECTS,
  RUN_LANES_BUCKET,
  RUN_TIMERS_STREAM,
  RUN_TIMERS_SUBJECTS,
  RUN_WORK_STREAM,
  RUN_WORK_SUBJECTS,
  workQueueFilter,
} from '@lrs/contracts';
import { KV_DUPLICATE_WINDOW_MS } from './kv-compare-and-set';
import { RUN_WORK_DUPLICATE_WINDOW_MS } from './run-work';

const ms = (value: number) => value * 1_000_000;
/** How long an Idempotency-Key is remembered (as Stripe and most APIs that take one). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;
/** How long RUN_EVENTS remembers a message id (one per run position). */
export const RUN_EVENTS_DUPLICATE_WINDOW_MS = 20_000;

export interface ProvisionOptions {
  /** Stream replicas: 1 for a single server, 3 in production clusters. */
  replicas: number;
  /** 0 keeps run events forever; the event log is the source of truth. */
  runEventsMaxAgeMs: number;
  /** Overrides every consumer's ack_wait (tests shorten it to see crash redelivery quickly). */
  ackWaitMs?: number | null;
}

export interface ConsumerPolicy {
  name: string;
  /** The stream it reads: the run log, a work queue, the timers. */
  stream: string;
  /** The subjects it reads of that stream (a work queue's), when not all. */
  filterSubject?: string;
  ackWaitMs: number;
  /** Deliveries a handler fails before the message goes to the DLQ (see UNHANDLED_DELIVERY_HEADROOM). */
  maxDeliver: number;
  maxAckPending: number;
}

/**
 * Per-consumer delivery policy: the llm-worker's longer ack wait covers a model call (kept alive by
 * `working()`); every consumer ends in the DLQ after its deliveries (docs/run-path.md). The
 * orchestrator and the projector read the run log; the llm-worker and the callback dispatcher read
 * their work queues (RUN_WORK), which hold only the events they act on.
 */
export const CONSUMER_POLICIES: Record<keyof typeof CONSUMERS, ConsumerPolicy> = {
  orchestrator: { name: CONSUMERS.orchestrator, stream: RUN_EVENTS_STREAM, ackWaitMs: 30_000, maxDeliver: 20, maxAckPending: 2_000 },
  // About 8 minutes of retries (backoff capped at 5 s), then the DLQ: the run path does not wait
  // for the projection, so giving up costs a stale view, never a run.
  projector: { name: CONSUMERS.projector, stream: RUN_EVENTS_STREAM, ackWaitMs: 30_000, maxDeliver: 100, maxAckPending: 4_000 },
  llmWorker: { name: CONSUMERS.llmWorker, stream: RUN_WORK_STREAM, filterSubject: workQueueFilter('StepRequested'), ackWaitMs: 60_000, maxDeliver: 8, maxAckPending: 4_096 },
  callbackDispatcher: {
    name: CONSUMERS.callbackDispatcher,
    stream: RUN_WORK_STREAM,
    filterSubject: workQueueFilter('RunFinished'),
    ackWaitMs: 30_000,
    maxDeliver: 30,
    maxAckPending: 4_000,
  },
};

/**
 * Every pending timer is one unacked message held back by a delayed nak: the window is the number
 * of timers that may wait at once, and it blocks nothing but other timers.
 */
export const APPROVAL_TIMERS_POLICY: ConsumerPolicy = {
  name: APPROVAL_TIMERS_CONSUMER,
  stream: RUN_TIMERS_STREAM,
  ackWaitMs: 30_000,
  maxDeliver: 100,
  maxAckPending: 1_000_000,
};

/**
 * Creates or updates the streams, KV bucket and durable consumers. Idempotent and safe to run
 * from every replica at start-up at the same time: existing objects are updated in place and a
 * concurrent creator winning the race is not an error.
 */
export async function provisionJetStream(jsm: JetStreamManager, js: JetStreamClient, options: ProvisionOptions): Promise<void> {
  await ensureStream(jsm, {
    name: RUN_EVENTS_STREAM,
    subjects: [RUN_EVENTS_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas,
    max_age: ms(options.runEventsMaxAgeMs),
    // Longer than any race or publish retry (those last milliseconds to seconds), and short: a
    // stream leader lost mid-write leaves the run's next position held for this long
    // (PositionInDoubt in run-event-store.ts), which the consumers' retries outlast.
    duplicate_window: ms(RUN_EVENTS_DUPLICATE_WINDOW_MS),
    allow_direct: true,
    deny_delete: true,
  });
  await ensureStream(jsm, {
    name: DLQ_STREAM,
    subjects: ['dlq.>'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas,
    max_age: ms(14 * 24 * 3_600_000),
  });
  await ensureStream(jsm, {
    name: RUN_TIMERS_STREAM,
    subjects: [RUN_TIMERS_SUBJECTS],
    // A fired timer is acked and gone.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas,
    duplicate_window: ms(120_000),
  });
  await ensureStream(jsm, {
    name: RUN_WORK_STREAM,
    subjects: [RUN_WORK_SUBJECTS],
    // An item is gone once its service has acknowledged it; the run log keeps the event.
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas,
    // Each item is published twice (by its event's writer and by the orchestrator), kept once.
    duplicate_window: ms(RUN_WORK_DUPLICATE_WINDOW_MS),
  });
  await new Kvm(js).create(RUN_LANES_BUCKET, { history: 1, replicas: options.replicas, storage: 'file' });
  await keepWritesInDoubtShort(jsm, RUN_LANES_BUCKET);
  // Large event payloads live as long as the run events that claim them.
  await new Objm(js).create(RUN_PAYLOADS_BUCKET, { storage: StorageType.File, replicas: options.replicas, ttl: ms(options.runEventsMaxAgeMs) });
  await new Kvm(js).create(IDEMPOTENCY_KEYS_BUCKET, { history: 1, replicas: options.replicas, storage: 'file', ttl: IDEMPOTENCY_KEY_TTL_MS });
  await keepWritesInDoubtShort(jsm, IDEMPOTENCY_KEYS_BUCKET);
  for (const policy of Object.values(CONSUMER_POLICIES)) {
    await ensureConsumer(jsm, { ...policy, ackWaitMs: options.ackWaitMs || policy.ackWaitMs });
  }
  await ensureConsumer(jsm, APPROVAL_TIMERS_POLICY);
}

/**
 * A bucket written through ConditionalBucket dedupes writes by revision for its duplicate window,
 * which is also how long a write a lost leader left unfinished holds its key (RevisionInDoubt):
 * short, as for the run events. The KV client creates buckets with the server's default (2 min).
 */
async function keepWritesInDoubtShort(jsm: JetStreamManager, bucket: string): Promise<void> {
  const stream = `KV_${bucket}`;
  const info = await jsm.streams.info(stream);
  if (info.config.duplicate_window !== ms(KV_DUPLICATE_WINDOW_MS)) await jsm.streams.update(stream, { duplicate_window: ms(KV_DUPLICATE_WINDOW_MS) });
}

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    if (!isAlreadyInUse(error)) throw error;
    const { name, ...rest } = config;
    await jsm.streams.update(name, rest);
  }
}

/**
 * The server delivers a message this many times its policy's maxDeliver before it stops. Some
 * deliveries never reach a handler: the process holding the message was killed, or was stopping
 * and handed it back, or its ack was lost with a node. Counted against maxDeliver, such deliveries
 * could use up a message's attempts with no handler ever giving up on it, and JetStream would then
 * drop it silently, without a DLQ entry, leaving its run unfinished. The handler sees
 * `isLastAttempt` from maxDeliver on, so a message that fails there still reaches the DLQ.
 */
export const UNHANDLED_DELIVERY_HEADROOM = 3;

/** Creates or updates a durable consumer from its policy (idempotent, safe to race). */
export async function ensureConsumer(jsm: JetStreamManager, policy: ConsumerPolicy): Promise<void> {
  const { stream } = policy;
  const config: Partial<ConsumerConfig> = {
    durable_name: policy.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ms(policy.ackWaitMs),
    max_deliver: policy.maxDeliver * UNHANDLED_DELIVERY_HEADROOM,
    max_ack_pending: policy.maxAckPending,
    max_waiting: 512,
    ...(policy.filterSubject ? { filter_subject: policy.filterSubject } : {}),
  };
  try {
    await jsm.consumers.add(stream, config);
  } catch (error) {
    if (!isAlreadyInUse(error)) throw error;
    await jsm.consumers.update(stream, policy.name, {
      ack_wait: config.ack_wait,
      max_deliver: config.max_deliver,
      max_ack_pending: config.max_ack_pending,
    });
  }
}

function isAlreadyInUse(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /already in use|already exists/i.test(message);
}
