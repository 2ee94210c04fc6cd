import { Catch, type ArgumentsHost, type INestMicroservice, type RpcExceptionFilter, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import type { AnyRunEvent, RunEventType } from '@lrs/contracts';
import { Env, serveProbes, serviceLogger } from '@lrs/config';
import type { ConsumerRunnerOptions, HandlerContext } from './consumer-runner';
import { JetStreamLifecycle } from './jetstream.module';
import type { WorkerRequests } from './worker-requests';

/**
 * A durable consumer a service declares: its name (provisioned in provisioning.ts) and how it
 * runs. Which event types it reads is not declared here: it is the union of the handlers'
 * `@EventPattern(onRunEvents(consumer, ...types))`, so the handler is the one place that says
 * what a service consumes.
 */
export type DeclaredConsumer = Omit<ConsumerRunnerOptions, 'js' | 'nc' | 'resolve' | 'logger' | 'handler' | 'eventTypes'>;

const ALL_EVENTS = '*';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any request and result type
type AnyWorkerRequests = WorkerRequests<any, any>;

/** The patterns of a handler of these event types on this consumer (no types: every event). */
export function onRunEvents(consumer: string, ...eventTypes: RunEventType[]): string[] {
  return eventTypes.length === 0 ? [`${consumer}:${ALL_EVENTS}`] : eventTypes.map((type) => `${consumer}:${type}`);
}

/**
 * The JetStream transport for `@nestjs/microservices`: each declared consumer runs on the
 * ConsumerRunner (durable pull consumer, ack after the handler's effect is durable, delayed nak
 * on RetryLater, bounded retries with backoff, then the DLQ) and hands each event to the
 * `@EventPattern` method declared for its consumer and type. Request/reply subjects the service
 * answers (WorkerRequests: queue group, error and size handling) are served by its
 * `@MessagePattern(subject)` methods. Start-up fails when a declared consumer or subject has no
 * handler, a handler names a consumer or subject that is not declared, or two handlers claim the
 * same event of a consumer.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private lifecycle: JetStreamLifecycle | null = null;
  private requests: readonly AnyWorkerRequests[] = [];
  private readonly stopServing: (() => void)[] = [];
  private readonly handlers = new Map<string, MessageHandler | undefined>();

  constructor(private readonly consumers: readonly DeclaredConsumer[]) {
    super();
  }

  /**
   * Nest builds the strategy before the module; the module's JetStream connection, and the
   * request/reply subjects the service answers, are handed over once it exists.
   */
  attach(lifecycle: JetStreamLifecycle, requests: readonly AnyWorkerRequests[] = []): void {
    this.lifecycle = lifecycle;
    this.requests = requests;
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  /** Consumers are stopped and the connection drained by JetStreamLifecycle at shutdown, after in-flight handlers end. */
  close(): void {
    for (const stop of this.stopServing.splice(0)) {
      try {
        stop();
      } catch {
        // The connection was drained already, which ended the subscription.
      }
    }
  }

  on(): never {
    throw new Error('the JetStream transport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.lifecycle as T;
  }

  /** Event types each declared consumer has handlers for ('all' for a handler of every event). */
  eventTypesByConsumer(): Map<string, RunEventType[] | 'all'> {
    const declared = new Map<string, RunEventType[] | 'all'>(this.consumers.map((consumer) => [consumer.consumer, []]));
    for (const [pattern, handler] of this.getHandlers()) {
      if (this.requests.some((requests) => requests.subject === pattern)) continue;
      const separator = pattern.lastIndexOf(':');
      const [consumer, type] = [pattern.slice(0, separator), pattern.slice(separator + 1)];
      const types = declared.get(consumer);
      if (separator < 0 || types === undefined) throw new Error(`a handler of ${pattern} names no consumer this service declares`);
      if ((handler as MessageHandler & { next?: unknown }).next) throw new Error(`two handlers claim ${pattern}`);
      if (!handler.isEventHandler) throw new Error(`${pattern} is a message pattern; run events take @EventPattern`);
      if (type === ALL_EVENTS || types === 'all') {
        if (types === 'all' || types.length > 0) throw new Error(`${consumer} has a handler of every event beside others`);
        declared.set(consumer, 'all');
      } else types.push(type as RunEventType);
    }
    const unhandled = [...declared].filter(([, types]) => types !== 'all' && types.length === 0).map(([consumer]) => consumer);
    if (unhandled.length) throw new Error(`declared consumers without a handler: ${unhandled.join(', ')}`);
    return declared;
  }

  private async start(): Promise<void> {
    if (!this.lifecycle) throw new Error('the JetStream transport was not attached to the JetStream module');
    const eventTypes = this.eventTypesByConsumer();
    for (const requests of this.requests) {
      const handler = this.getHandlerByPattern(requests.subject);
      if (!handler || handler.isEventHandler) throw new Error(`no @MessagePattern handler answers ${requests.subject}`);
      this.stopServing.push(requests.serve(async (request) => this.settle(await handler(request))));
    }
    for (const consumer of this.consumers) {
      await this.lifecycle.startConsumer({
        ...consumer,
        eventTypes: eventTypes.get(consumer.consumer)!,
        handler: (event, context) => this.dispatch(consumer.consumer, event, context),
      });
    }
  }

  /** Runs the handler and settles with it: its failure (RetryLater included) reaches the runner as thrown. */
  private async dispatch(consumer: string, event: AnyRunEvent, context: HandlerContext): Promise<void> {
    const handler = this.handlerOf(consumer, event.type);
    // The runner acks unread the types no handler declared, so this only guards a redrive.
    if (!handler) throw new Error(`${consumer} has no handler of ${event.type}`);
    await this.settle(await handler(event, context));
  }

  /**
   * The handler of an event type on a consumer, looked up once: Nest's lookup tries to parse the
   * pattern as JSON and catches the failure every time, which showed in the benchmark's profiles
   * (a tenth of the projector's CPU).
   */
  private handlerOf(consumer: string, type: RunEventType): MessageHandler | undefined {
    const key = `${consumer}:${type}`;
    if (!this.handlers.has(key)) this.handlers.set(key, this.getHandlerByPattern(key) ?? this.getHandlerByPattern(`${consumer}:${ALL_EVENTS}`) ?? undefined);
    return this.handlers.get(key);
  }

  /** A handler's result, whether it returned a value, a promise or an observable; its error as thrown. */
  private settle<T>(result: unknown): Promise<T> {
    return lastValueFrom(this.transformToObservable(result), { defaultValue: undefined }) as Promise<T>;
  }
}

/**
 * Nest's default RPC exception filter turns a handler's error into a generic one; the consumer
 * runner needs the error itself (a RetryLater carries its delay), so handlers' errors pass through.
 */
@Catch()
export class HandlerErrorsPassThrough implements RpcExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * Boots a service whose work is JetStream consumers (orchestrator, worker, dispatcher, projector)
 * as a Nest microservice on the JetStream transport, then serves its probes and metrics on
 * HEALTH_PORT (libs/platform/config/src/bootstrap.ts).
 */
export async function startJetStreamService(
  module: Type<unknown>,
  consumers: readonly DeclaredConsumer[],
  requests: readonly Type<AnyWorkerRequests>[] = [],
): Promise<INestMicroservice> {
  const env = new Env();
  const transport = new JetStreamTransport(consumers);
  // abortOnError off: a failed start rejects, and the unhandled rejection ends the process with
  // its error, rather than Nest calling process.abort().
  const app = await NestFactory.createMicroservice(module, { strategy: transport, logger: serviceLogger(env.string('SERVICE_NAME', 'service'), env), abortOnError: false });
  app.enableShutdownHooks();
  app.useGlobalFilters(new HandlerErrorsPassThrough());
  transport.attach(app.get(JetStreamLifecycle), requests.map((type) => app.get(type)));
  await app.listen();
  serveProbes(app);
  return app;
}
