import { headers } from '@nats-io/transport-node';
import type { JetStreamClient, JsMsg, ConsumerMessages } from '@nats-io/jetstream';
import { EVENT_TYPE_HEADER, RUN_EVENTS_STREAM, dlqSubject, type AnyRunEvent, type RunEventType } from '@lrs/contracts';
import { decodeRunEvent } from './run-event-store';

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
  streamSeq: number;
  deliveryCount: number;
  /** True on the last delivery the consumer's max_deliver allows. */
  isLastAttempt: boolean;
  /** Keeps a long-running handler's message from being redelivered (resets ack_wait). */
  working(): void;
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

  constructor(private readonly options: ConsumerRunnerOptions) {}

  async start(): Promise<void> {
    const consumer = await this.options.js.consumers.get(this.options.stream ?? RUN_EVENTS_STREAM, this.options.consumer);
    const messages = await consumer.consume({ max_messages: Math.max(16, this.options.concurrency * 2) });
    this.messages = messages;
    this.loop = this.pull(messages);
    void this.watchStatus(messages);
  }

  /** Stops pulling and waits for handlers in flight; unacked messages are redelivered elsewhere. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async pull(messages: ConsumerMessages): Promise<void> {
    for await (const msg of messages) {
      if (this.stopping) {
        msg.nak();
        continue;
      }
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

  private async handle(msg: JsMsg): Promise<void> {
    const { handler, logger, maxDeliver, workingEveryMs } = this.options;
    const deliveryCount = msg.info.deliveryCount;
    const isLastAttempt = maxDeliver > 0 && deliveryCount >= maxDeliver;
    const keepAlive = workingEveryMs ? setInterval(() => msg.working(), workingEveryMs) : null;
    let event: AnyRunEvent | null = null;
    try {
      event = decodeRunEvent(msg.data);
      await handler(event, { streamSeq: msg.seq, deliveryCount, isLastAttempt, working: () => msg.working() });
      msg.ack();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof RetryLater && !isLastAttempt) {
        msg.nak(error.delayMs);
        return;
      }
      if (isLastAttempt || event === null) {
        logger.error(`${this.options.consumer}: giving up on stream seq ${msg.seq} after ${deliveryCount} deliveries: ${reason}`);
        await this.deadLetter(msg, reason);
        msg.term();
        return;
      }
      logger.warn(`${this.options.consumer}: ${event.type} ${event.runId} failed (delivery ${deliveryCount}), retrying: ${reason}`);
      msg.nak(this.retryDelay(deliveryCount));
    } finally {
      if (keepAlive) clearInterval(keepAlive);
    }
  }

  private retryDelay(deliveryCount: number): number {
    const { baseMs, capMs } = this.options.retry ?? { baseMs: 250, capMs: 30_000 };
    const delay = Math.min(capMs, baseMs * 2 ** (deliveryCount - 1));
    return Math.round(delay * (0.8 + Math.random() * 0.2));
  }

  private async deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const hdrs = headers();
    hdrs.set('Dlq-Stream', this.options.stream ?? RUN_EVENTS_STREAM);
    hdrs.set('Dlq-Seq', String(msg.seq));
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
      if (status.type === 'heartbeats_missed' || status.type === 'consumer_not_found' || status.type === 'consumer_deleted') {
        this.options.logger.warn(`${this.options.consumer}: ${status.type}`);
      }
    }
  }
}
