import { headers, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { JetStreamClient, JsMsg, ConsumerMessages } from '@nats-io/jetstream';
import { EVENT_TYPE_HEADER, RUN_EVENTS_STREAM, RUN_STREAM_SEQ_HEADER, dlqSubject, type AnyRunEvent, type RunEventType } from '@lrs/contracts';
import { METRICS } from '@lrs/config';
import { runTraceparent } from '@lrs/domain-run';
import { SpanKind, inSpan, markFailed, type Attributes, type Span } from '@lrs/tracing';
import { decodeRunEvent } from './run-event-store';

/** A dead-lettered message handed back to its consumer's handler by the DLQ command. */
export interface RedriveRequest {
  /** The message's sequence in the stream it came from (a handler's HandlerContext.streamSeq). */
  streamSeq: number;
  /** The message's data, base64. */
  data: string;
}
export type RedriveReply = { ok: true } | { ok: false; error: string };

export function redriveSubject(consumer: string): string {
  return `redrive.${consumer}`;
}

/** Throw from a handler to be redelivered after a specific delay (e.g. waiting for a projection). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    reason: string,
  ) {
    super(reason);
  }
}

export interface HandlerContext {
  /** The event's position in the run log (for a work item, the position of the event it copies). */
  streamSeq: number;
  deliveryCount: number;
  /** True from the policy's maxDeliver-th delivery on: a failure now goes to the DLQ (provisioning.ts, UNHANDLED_DELIVERY_HEADROOM). */
  isLastAttempt: boolean;
  /** Keeps a long-running handler's message from being redelivered (resets ack_wait). */
  working(): void;
}

/** How a delivery ended, as lrs_consumer_deliveries_total counts it. */
type DeliveryOutcome = 'acked' | 'waiting' | 'retried' | 'dead_lettered';

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Where a delivered event stands in the run log: a work item (RunWork) says it in a header, a
 * message of the log is the event itself.
 */
function logPositionOf(msg: JsMsg): { stream: string; seq: number } {
  const copied = Number(msg.headers?.get(RUN_STREAM_SEQ_HEADER));
  return copied > 0 ? { stream: RUN_EVENTS_STREAM, seq: copied } : { stream: msg.info.stream, seq: msg.seq };
}

export interface RunEventHandler {
  (event: AnyRunEvent, context: HandlerContext): Promise<void>;
}

export interface MinimalLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ConsumerRunnerOptions {
  js: JetStreamClient;
  /** Serves `redrive.<consumer>` requests of the DLQ command when given. */
  nc?: NatsConnection;
  /**
   * Fetches a claimed payload (RunEventStore.resolve). Kept apart from parsing: a message that is
   * not JSON is dead-lettered at once, while a payload store that does not answer is retried.
   */
  resolve?: (event: AnyRunEvent) => Promise<AnyRunEvent>;
  consumer: string;
  /** The stream the consumer reads: the run events, unless named. */
  stream?: string;
  /** Only these event types reach the handler; others are acked unread (by header). */
  eventTypes: readonly RunEventType[] | 'all';
  /** Messages handled at the same time by this process. */
  concurrency: number;
  maxDeliver: number;
  /** How often a running handler tells the server it is still working. */
  workingEveryMs?: number;
  retry?: { baseMs: number; capMs: number };
  logger: MinimalLogger;
  handler: RunEventHandler;
}

/**
 * Pulls from a durable consumer and runs a handler per message with bounded concurrency.
 * Ack after the handler's work is durable; nak with exponential delay on failure; on the last
 * allowed delivery, copy the message to the DLQ stream before giving up on it.
 */
export class ConsumerRunner {
  private messages: ConsumerMessages | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | null = null;
  private stopping = false;
  private redrives: Subscription | null = null;
  /** The pull loop is running (it ends only when the runner is stopped, or if the subscription dies). */
  private pulling = false;
  /**
   * Why the server has nothing to pull from, when it says so (the consumer or its stream was
   * deleted): the client keeps asking, so the loop runs on, but nothing is consumed until the
   * consumer exists again. Cleared by the next message or heartbeat.
   */
  private missing: string | null = null;

  /** Readiness: pulling from a consumer that exists. */
  get consuming(): boolean {
    return this.pulling && this.missing === null;
  }

  /** Why the runner is not consuming, or null when it is. */
  get notConsumingBecause(): string | null {
    if (!this.pulling) return 'its pull loop has ended';
    return this.missing;
  }

  get name(): string {
    return this.options.consumer;
  }

  /** Handlers running now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get stream(): string {
    return this.options.stream ?? RUN_EVENTS_STREAM;
  }

  constructor(private readonly options: ConsumerRunnerOptions) {}

  async start(): Promise<void> {
    const consumer = await this.options.js.consumers.get(this.stream, this.options.consumer);
    // Pull requests last 10 s (the client's default is 30 s), so heartbeats come every 5 s: a
    // consumer that went away (a lost node, a deleted consumer) is noticed and pulled from again
    // within seconds rather than a minute.
    const messages = await consumer.consume({ max_messages: Math.max(16, this.options.concurrency * 2), expires: 10_000 });
    this.messages = messages;
    this.loop = this.pull(messages);
    void this.watchStatus(messages);
    this.serveRedrives();
  }

  /**
   * The DLQ command (`npm run dlq -- redrive`) hands a dead-lettered message back to the handler
   * it failed in, through one replica of this consumer's service; the answer says whether it is
   * done now. Handlers are idempotent (every message may be redelivered), so a message whose run
   * moved on meanwhile changes nothing.
   */
  private serveRedrives(): void {
    const { nc, consumer, handler, logger } = this.options;
    if (!nc) return;
    this.redrives = nc.subscribe(redriveSubject(consumer), {
      queue: redriveSubject(consumer),
      callback: (error, message) => {
        if (error) return;
        void (async (): Promise<RedriveReply> => {
          const request = message.json<RedriveRequest>();
          const event = await this.resolve(decodeRunEvent(Buffer.from(request.data, 'base64')));
          try {
            await inSpan(`redrive ${event.type}`, { kind: SpanKind.CONSUMER, parent: runTraceparent(event), attributes: this.spanAttributes(event, request.streamSeq, 1) }, () =>
              handler(event, { streamSeq: request.streamSeq, deliveryCount: 1, isLastAttempt: false, working: () => undefined }),
            );
            logger.log(`${consumer}: redrove ${event.type} ${event.runId} (stream seq ${request.streamSeq})`);
            return { ok: true };
          } catch (failure) {
            return { ok: false, error: failure instanceof Error ? failure.message : String(failure) };
          }
        })()
          .catch((failure: unknown): RedriveReply => ({ ok: false, error: `unreadable redrive request: ${String(failure)}` }))
          .then((reply) => message.respond(JSON.stringify(reply)));
      },
    });
  }

  /** Stops pulling and waits for handlers in flight; unacked messages are redelivered elsewhere. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.redrives?.unsubscribe();
    await this.messages?.close();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async pull(messages: ConsumerMessages): Promise<void> {
    this.pulling = true;
    try {
      await this.pullEach(messages);
    } finally {
      this.pulling = false;
    }
  }

  private async pullEach(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (this.stopping) {
        msg.nak();
        continue;
      }
      this.missing = null;
      const type = msg.headers?.get(EVENT_TYPE_HEADER) as RunEventType | undefined;
      if (this.options.eventTypes !== 'all' && (!type || !this.options.eventTypes.includes(type))) {
        msg.ack();
        continue;
      }
      while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
      const task = this.handle(msg).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  /**
   * One delivery, in a consumer span (libs/platform/tracing) of the run's trace: the span's parent
   * is the event's traceparent, so every service's handling of a run joins the run's trace.
   */
  private async handle(msg: JsMsg): Promise<void> {
    const { maxDeliver, workingEveryMs } = this.options;
    const deliveryCount = msg.info.deliveryCount;
    const isLastAttempt = maxDeliver > 0 && deliveryCount >= maxDeliver;
    if (deliveryCount > 1) METRICS.consumerRedeliveries.inc({ consumer: this.options.consumer });
    let event: AnyRunEvent;
    try {
      event = decodeRunEvent(msg.data);
    } catch (error) {
      // Not a run event at all: no retry can help.
      await this.giveUp(msg, deliveryCount, error);
      return;
    }
    const keepAlive = workingEveryMs ? setInterval(() => msg.working(), workingEveryMs) : null;
    const streamSeq = logPositionOf(msg).seq;
    try {
      await inSpan(`process ${event.type}`, { kind: SpanKind.CONSUMER, parent: runTraceparent(event), attributes: this.spanAttributes(event, streamSeq, deliveryCount) }, async (span) => {
        span.setAttribute('outcome', await this.settle(msg, event, span, { streamSeq, deliveryCount, isLastAttempt, working: () => msg.working() }));
      });
    } finally {
      if (keepAlive) clearInterval(keepAlive);
    }
  }

  /** Runs the handler, then acks, naks or dead-letters the message by how it went; the outcome, as counted. */
  private async settle(msg: JsMsg, event: AnyRunEvent, span: Span, context: HandlerContext): Promise<DeliveryOutcome> {
    const { handler, logger, consumer } = this.options;
    let outcome: DeliveryOutcome;
    try {
      await handler(await this.resolve(event), context);
      msg.ack();
      outcome = 'acked';
    } catch (error) {
      if (error instanceof RetryLater && !context.isLastAttempt) {
        // A wait the handler asked for (a projection not there yet, a callback's next attempt), not a failure.
        msg.nak(error.delayMs);
        span.setAttribute('retry_after_ms', error.delayMs);
        outcome = 'waiting';
      } else if (context.isLastAttempt) {
        markFailed(span, error);
        return this.giveUp(msg, context.deliveryCount, error);
      } else {
        markFailed(span, error);
        logger.warn(`${consumer}: ${event.type} ${event.runId} failed (delivery ${context.deliveryCount}), retrying: ${reasonOf(error)}`);
        msg.nak(this.retryDelay(context.deliveryCount));
        outcome = 'retried';
      }
    }
    METRICS.consumerDeliveries.inc({ consumer, outcome });
    return outcome;
  }

  /** The last delivery failed, or the message is no run event: copied to the DLQ and terminated. */
  private async giveUp(msg: JsMsg, deliveryCount: number, error: unknown): Promise<'dead_lettered'> {
    const reason = reasonOf(error);
    this.options.logger.error(`${this.options.consumer}: giving up on stream seq ${msg.seq} after ${deliveryCount} deliveries: ${reason}`);
    await this.deadLetter(msg, reason);
    msg.term();
    METRICS.consumerDeliveries.inc({ consumer: this.options.consumer, outcome: 'dead_lettered' });
    return 'dead_lettered';
  }

  /** What a consumer span says: the standard messaging attributes, and the run's, named as GET /v1/runs/{id}/trace names them. */
  private spanAttributes(event: AnyRunEvent, streamSeq: number, deliveryCount: number): Attributes {
    return {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': this.stream,
      'messaging.consumer.group.name': this.options.consumer,
      'messaging.message.id': String(streamSeq),
      delivery_count: deliveryCount,
      run_id: event.runId,
      agent_id: event.agentId,
      event_type: event.type,
    };
  }

  private resolve(event: AnyRunEvent): Promise<AnyRunEvent> {
    return this.options.resolve ? this.options.resolve(event) : Promise.resolve(event);
  }

  private retryDelay(deliveryCount: number): number {
    const { baseMs, capMs } = this.options.retry ?? { baseMs: 250, capMs: 30_000 };
    const delay = Math.min(capMs, baseMs * 2 ** (deliveryCount - 1));
    return Math.round(delay * (0.8 + Math.random() * 0.2));
  }

  /** The DLQ entry names the event's place in the run log (for a work item, the event it copies), which a redrive hands to the handler. */
  private async deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const position = logPositionOf(msg);
    const hdrs = headers();
    hdrs.set('Dlq-Stream', position.stream);
    hdrs.set('Dlq-Seq', String(position.seq));
    hdrs.set('Dlq-Error', reason.slice(0, 1_000));
    try {
      await this.options.js.publish(dlqSubject(this.options.consumer), msg.data, {
        headers: hdrs,
        msgID: `dlq:${this.options.consumer}:${msg.seq}`,
      });
    } catch (error) {
      this.options.logger.error(`${this.options.consumer}: could not dead-letter stream seq ${msg.seq}: ${String(error)}`);
    }
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'heartbeat') this.missing = null;
      if (status.type === 'consumer_not_found' || status.type === 'consumer_deleted' || status.type === 'stream_not_found') {
        this.missing = `the server reports ${status.type.replace(/_/g, ' ')}`;
        this.options.logger.warn(`${this.options.consumer}: ${status.type}`);
      }
      if (status.type === 'heartbeats_missed') this.options.logger.warn(`${this.options.consumer}: ${status.type}`);
    }
  }
}
