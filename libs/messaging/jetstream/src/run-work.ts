import { headers } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { EVENT_TYPE_HEADER, RUN_STREAM_SEQ_HEADER, TRACEPARENT_HEADER, isWorkItemType, workSubject, type AnyRunEvent } from '@lrs/contracts';
import type { StoredRunEvent } from './run-event-store';
import { BoundedMemory } from './bounded-memory';

/** How long RUN_WORK remembers a work item's id: a copy published again within it is dropped by the server. */
export const RUN_WORK_DUPLICATE_WINDOW_MS = 120_000;

/**
 * Publishes started in this process that its orchestrator's forward may still meet. Events
 * forwarded by another replica (or appended by a service with no forwarder) are never met here
 * again: the oldest are forgotten, which at worst costs one duplicate publish.
 */
const PUBLISHED_MEMORY = 20_000;

/** Encodes an event as the run log stores it (a large payload as a claim, RunEventStore.encode). */
export type EncodeRunEvent = (event: AnyRunEvent) => Promise<string>;

export interface WorkLogger {
  warn(message: string): void;
}

/**
 * The work queues (RUN_WORK, docs/run-path.md "Work queues"): each StepRequested and RunFinished is
 * copied there, under its own subject per type, so the llm-worker and the callback dispatcher each
 * receive only the events they act on, instead of every event of every run.
 *
 * Two copies of each item are attempted, and the server keeps one (the message id is the event's,
 * remembered for RUN_WORK_DUPLICATE_WINDOW_MS; the handlers are idempotent beyond that):
 * - `publish`, right after the append, by the process that appended the event (no extra hop);
 * - `forward`, by the orchestrator when the run log delivers it the event. This is what makes the
 *   copy durable: a writer that dies between its append and its publish, or whose publish fails,
 *   leaves the event in the log, and the orchestrator's consumer delivers it until it is forwarded.
 *   In the process that published it the forward costs nothing: it waits for that publish instead.
 */
export class RunWork {
  /** Publishes this process started, by event id: a later `forward` of the same event waits for it instead of publishing again. */
  private readonly published = new BoundedMemory<string, Promise<boolean>>(PUBLISHED_MEMORY);

  constructor(
    private readonly js: JetStreamClient,
    private readonly encode: EncodeRunEvent,
    private readonly logger: WorkLogger,
  ) {}

  /**
   * Copies the appended events that have a work queue to it. Never throws: the append is done and
   * must stand; a copy that failed here is made by the orchestrator's `forward`.
   */
  async publish(appended: readonly StoredRunEvent[]): Promise<void> {
    await Promise.all(
      appended
        .filter((stored) => isWorkItemType(stored.event.type))
        .map((stored) => {
          const publishing = this.send(stored).then(
            () => true,
            (error: unknown) => this.failed(stored, error),
          );
          this.published.set(stored.event.id, publishing);
          return publishing;
        }),
    );
  }

  /**
   * The orchestrator's copy of an event the run log delivered: published unless this process
   * published it already. Throws when the publish fails, so the delivery is retried.
   */
  async forward(stored: StoredRunEvent): Promise<void> {
    if (!isWorkItemType(stored.event.type)) return;
    const own = this.published.take(stored.event.id);
    if (own && (await own)) return;
    await this.send(stored);
  }

  private async send(stored: StoredRunEvent): Promise<void> {
    const { event, streamSeq } = stored;
    if (!isWorkItemType(event.type)) return;
    const hdrs = headers();
    hdrs.set(EVENT_TYPE_HEADER, event.type);
    hdrs.set(RUN_STREAM_SEQ_HEADER, String(streamSeq));
    if (event.traceparent) hdrs.set(TRACEPARENT_HEADER, event.traceparent);
    await this.js.publish(workSubject(event.type, event.runId), await this.encode(event), { msgID: `work:${event.id}`, headers: hdrs });
  }

  private failed(stored: StoredRunEvent, error: unknown): false {
    this.logger.warn(`${stored.event.type} of ${stored.event.runId} not copied to its work queue (the orchestrator copies it): ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}
