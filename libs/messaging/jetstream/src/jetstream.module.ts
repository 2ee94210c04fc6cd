import { Global, Inject, Injectable, Logger, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Env, GAUGES, NATS_READINESS, ReadinessChecks, ReadinessModule, onScrape, withStartupRetries } from '@lrs/config';
import { ConnectionWatch, DEFAULT_PING_INTERVAL_MS, connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { RunEventStore } from './run-event-store';
import { EventPayloads } from './event-payloads';
import { LaneStore } from './lane-store';
import { CompactionRequests } from './compaction-requests';
import { RunBacklog } from './run-backlog';
import { RunTimers } from './run-timers';
import { IdempotencyKeys } from './idempotency-keys';
import { CancelNotices } from './cancel-notices';
import { ToolRunRequests, ToolSchemaRequests } from './tool-run-requests';
import { ArchivalRequests, MessageSearchRequests } from './archival-requests';
import { ModelListRequests } from './model-list-requests';
import { McpToolListRequests, McpToolRunRequests } from './mcp-requests';
import { RunEventWatcher } from './run-event-watcher';
import { TokenDeltaBus } from './token-delta-bus';
import { ConsumerRunner, type ConsumerRunnerOptions } from './consumer-runner';
import { RunCommands } from './run-commands';
import { RunWork } from './run-work';

export const JETSTREAM_CONTEXT = Symbol('JETSTREAM_CONTEXT');

const opened = <T>(what: string, open: () => Promise<T>) => withStartupRetries(`opening ${what}`, open, new Logger('JetStream'));

export interface JetStreamModuleOptions {
  serviceName: string;
  natsUrl: string;
}

/** Owns the process's NATS connection and every consumer started through it; drains on shutdown. */
@Injectable()
export class JetStreamLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly runners: ConsumerRunner[] = [];
  private readonly logger = new Logger('JetStream');

  constructor(
    @Inject(JETSTREAM_CONTEXT) private readonly context: JetStreamContext,
    private readonly events: RunEventStore,
  ) {
    // The consumers' lag and unacknowledged counts, read from JetStream when /metrics is scraped.
    onScrape(async () => {
      for (const runner of this.runners) {
        GAUGES.inFlight.set({ consumer: runner.name }, runner.inFlightCount);
        const info = await this.context.jsm.consumers.info(runner.stream, runner.name);
        GAUGES.consumerLag.set({ consumer: runner.name }, info.num_pending);
        GAUGES.consumerUnacked.set({ consumer: runner.name }, info.num_ack_pending);
      }
    });
  }

  async startConsumer(options: Omit<ConsumerRunnerOptions, 'js' | 'nc' | 'resolve' | 'logger'>): Promise<ConsumerRunner> {
    const runner = new ConsumerRunner({
      ...options,
      js: this.context.js,
      nc: this.context.nc,
      resolve: (event) => this.events.resolve(event),
      logger: new Logger(options.consumer),
    });
    await withStartupRetries(`starting consumer ${options.consumer}`, () => runner.start(), this.logger);
    this.runners.push(runner);
    this.logger.log(`consuming ${options.consumer} (concurrency ${options.concurrency})`);
    return runner;
  }

  /** Readiness: every consumer this process started is still pulling. */
  checkConsumers(): void {
    const stopped = this.runners.filter((runner) => !runner.consuming).map((runner) => `${runner.name} (${runner.notConsumingBecause})`);
    if (stopped.length) throw new Error(`not consuming: ${stopped.join(', ')}`);
  }

  /**
   * Shutdown, first half: stop pulling and let the work in hand finish while NATS and Postgres are
   * still open (every module's onApplicationShutdown, which closes them, runs after this).
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.runners.map((runner) => runner.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.context.nc.drain().catch(() => undefined);
  }
}

@Global()
@Module({})
export class JetStreamModule {
  static forRoot(options: JetStreamModuleOptions): DynamicModule {
    return {
      module: JetStreamModule,
      imports: [ReadinessModule],
      providers: [
        {
          provide: JETSTREAM_CONTEXT,
          useFactory: async () => {
            const env = new Env();
            const context = await connectJetStream({
              servers: options.natsUrl,
              name: options.serviceName,
              waitForServer: true,
              pingIntervalMs: env.int('NATS_PING_INTERVAL_MS', DEFAULT_PING_INTERVAL_MS, { min: 100 }),
            });
            const provisioning = {
              replicas: env.int('JETSTREAM_REPLICAS', 1, { min: 1, max: 5 }),
              runEventsMaxAgeMs: env.int('RUN_EVENTS_MAX_AGE_MS', 0, { min: 0 }),
              ackWaitMs: env.int('JETSTREAM_ACK_WAIT_MS', 0, { min: 0 }) || null,
            };
            // NATS may go away again while the service starts: wait for it rather than exit.
            await withStartupRetries('provisioning JetStream', () => provisionJetStream(context.jsm, context.js, provisioning), new Logger('JetStream'));
            return context;
          },
        },
        {
          provide: RunEventStore,
          inject: [JETSTREAM_CONTEXT],
          useFactory: async (context: JetStreamContext) => new RunEventStore(context.js, context.jsm, await opened('the payload store', () => EventPayloads.open(context.js))),
        },
        {
          provide: RunWork,
          inject: [JETSTREAM_CONTEXT, RunEventStore],
          useFactory: (context: JetStreamContext, events: RunEventStore) => new RunWork(context.js, (event) => events.encode(event), new Logger('RunWork')),
        },
        {
          provide: RunCommands,
          inject: [RunEventStore, RunWork],
          useFactory: (events: RunEventStore, work: RunWork) => new RunCommands(events, work),
        },
        {
          provide: LaneStore,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => opened('the lane store', () => LaneStore.open(context.js)),
        },
        {
          provide: RunEventWatcher,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new RunEventWatcher(context.nc),
        },
        {
          provide: TokenDeltaBus,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new TokenDeltaBus(context.nc),
        },
        {
          provide: CompactionRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new CompactionRequests(context.nc),
        },
        {
          provide: ToolRunRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new ToolRunRequests(context.nc),
        },
        {
          provide: ToolSchemaRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new ToolSchemaRequests(context.nc),
        },
        {
          provide: ArchivalRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new ArchivalRequests(context.nc),
        },
        {
          provide: MessageSearchRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new MessageSearchRequests(context.nc),
        },
        {
          provide: ModelListRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new ModelListRequests(context.nc),
        },
        {
          provide: McpToolListRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new McpToolListRequests(context.nc),
        },
        {
          provide: McpToolRunRequests,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new McpToolRunRequests(context.nc),
        },
        {
          provide: CancelNotices,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new CancelNotices(context.nc),
        },
        {
          provide: ConnectionWatch,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new ConnectionWatch(context.nc),
        },
        {
          provide: NATS_READINESS,
          inject: [JETSTREAM_CONTEXT, ConnectionWatch, JetStreamLifecycle, ReadinessChecks],
          useFactory: (context: JetStreamContext, watch: ConnectionWatch, lifecycle: JetStreamLifecycle, checks: ReadinessChecks) =>
            checks.add({
              name: 'nats',
              check: async () => {
                if (!watch.up) throw new Error('disconnected from NATS');
                // JetStream answers, not just the connection, and this process's consumers pull.
                await context.jsm.getAccountInfo();
                lifecycle.checkConsumers();
              },
            }),
        },
        {
          provide: IdempotencyKeys,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => opened('the idempotency keys', () => IdempotencyKeys.open(context.js)),
        },
        {
          provide: RunTimers,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new RunTimers(context.js),
        },
        {
          provide: RunBacklog,
          inject: [JETSTREAM_CONTEXT],
          useFactory: (context: JetStreamContext) => new RunBacklog(context.jsm),
        },
        JetStreamLifecycle,
      ],
      exports: [JETSTREAM_CONTEXT, ReadinessModule, ConnectionWatch, RunTimers, IdempotencyKeys, RunEventStore, RunWork, RunCommands, RunBacklog, CancelNotices, LaneStore, RunEventWatcher, TokenDeltaBus, CompactionRequests, ToolRunRequests, ToolSchemaRequests, ArchivalRequests, MessageSearchRequests, ModelListRequests, McpToolListRequests, McpToolRunRequests, JetStreamLifecycle],
    };
  }
}
