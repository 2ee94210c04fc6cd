import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { CONSUMERS } from '@lrs/contracts';
import { ArchivalRequests, CompactionRequests, CONSUMER_POLICIES, JetStreamModule, McpToolListRequests, McpToolRunRequests, MessageSearchRequests, ModelListRequests, ToolRunRequests, ToolSchemaRequests, type DeclaredConsumer } from '@lrs/jetstream';
import { TracingModule } from '@lrs/tracing';
import { ReadModelModule } from '@lrs/read-model';
import { PassageStore } from '@lrs/archival-memory';
import { DataSource } from 'typeorm';
import { ArchivalMemory } from './archival/archival-memory';
import { ArchivalRequestedHandler } from './handlers/archival-requested/archival-requested.handler';
import { MessageEmbeddings } from './archival/message-embeddings';
import { MessageSearchRequestedHandler } from './handlers/message-search-requested/message-search-requested.handler';
import { WORKER_SETTINGS, readWorkerSettings } from './config/env';
import { StepRequestedHandler } from './handlers/step-requested/step-requested.handler';
import { ServerTools } from './tools/server-tools';
import { TOOL_EXECUTORS, type ToolExecutor } from './tools/tool-executor';
import { MemoryToolExecutor } from './tools/memory-tool.executor';
import { SandboxToolExecutor } from './tools/sandbox-tool.executor';
import { BuiltinToolExecutor } from './tools/builtin-tool.executor';
import { WebPages } from './tools/web-pages';
import { UnavailableToolExecutor } from './tools/unavailable-tool.executor';
import { McpToolExecutor } from './tools/mcp-tool.executor';
import { McpServers } from './mcp/mcp-servers';
import { McpRequestedHandler } from './handlers/mcp-requested/mcp-requested.handler';
import { ToolSandbox } from '@lrs/tool-sandbox';
import { ArchivalTools } from './tools/archival-tools';
import { ModelCaller } from './model-caller';
import { ModelProviders } from './model-providers';
import { ProviderModelLists } from './models/provider-model-lists';
import { ModelListRequestedHandler } from './handlers/model-list-requested/model-list-requested.handler';
import { FaultInjection } from './fault-injection';
import { CompactionRequestedHandler } from './handlers/compaction-requested/compaction-requested.handler';
import { ToolRunRequestedHandler } from './handlers/tool-run-requested/tool-run-requested.handler';
import { ToolSchemaRequestedHandler } from './handlers/tool-schema-requested/tool-schema-requested.handler';
import { ContextFitter } from './context/context-fitter';
import { ThreadSummarizer } from './context/thread-summarizer';

const settings = readWorkerSettings();

/** The consumer this service runs (on its work queue, StepRequested only); its handler is StepRequestedHandler's @EventPattern method. */
export const DECLARED_CONSUMERS: DeclaredConsumer[] = [
  {
    consumer: CONSUMERS.llmWorker,
    stream: CONSUMER_POLICIES.llmWorker.stream,
    concurrency: settings.concurrency,
    maxDeliver: CONSUMER_POLICIES.llmWorker.maxDeliver,
    // Well inside the consumer's ack_wait so a long model call is never redelivered meanwhile.
    workingEveryMs: settings.workingEveryMs,
    // A step that failed on its infrastructure (Postgres restarting, NATS electing a leader) is
    // retried over about 90 s of backoff before its run fails; model errors are retried inside.
    retry: { baseMs: 1_000, capMs: 30_000 },
  },
];

@Module({
  imports: [
    TracingModule.forRoot(settings.serviceName),
    JetStreamModule.forRoot({ serviceName: settings.serviceName, natsUrl: settings.natsUrl }),
    ReadModelModule.forRoot({
      url: settings.databaseUrl,
      poolSize: settings.dbPoolSize,
      applicationName: settings.serviceName,
      preparedStatements: settings.databasePreparedStatements,
    }),
  ],
  controllers: [StepRequestedHandler, CompactionRequestedHandler, ToolRunRequestedHandler, ToolSchemaRequestedHandler, ArchivalRequestedHandler, MessageSearchRequestedHandler, ModelListRequestedHandler, McpRequestedHandler],
  providers: [
    { provide: WORKER_SETTINGS, useValue: settings },
    { provide: PassageStore, inject: [DataSource], useFactory: (dataSource: DataSource) => new PassageStore(dataSource) },
    ArchivalMemory,
    MessageEmbeddings,
    FaultInjection,
    ServerTools,
    ArchivalTools,
    { provide: ToolSandbox, useFactory: () => new ToolSandbox(settings.sandbox) },
    MemoryToolExecutor,
    SandboxToolExecutor,
    BuiltinToolExecutor,
    UnavailableToolExecutor,
    McpServers,
    McpToolExecutor,
    WebPages,
    // In order: the first executor that runs a tool runs it. MCP before Unavailable: an imported MCP tool runs once its server is registered.
    {
      provide: TOOL_EXECUTORS,
      inject: [MemoryToolExecutor, BuiltinToolExecutor, McpToolExecutor, UnavailableToolExecutor, SandboxToolExecutor],
      useFactory: (...executors: ToolExecutor[]) => executors,
    },
    ModelProviders,
    ModelCaller,
    { provide: ProviderModelLists, inject: [ModelProviders], useFactory: (providers: ModelProviders) => new ProviderModelLists(providers) },
    ThreadSummarizer,
    ContextFitter,
  ],
})
export class AppModule implements OnApplicationShutdown {
  constructor(private readonly sandbox: ToolSandbox) {}

  /** The sandbox's child processes end with the service. */
  async onApplicationShutdown(): Promise<void> {
    await this.sandbox.close();
  }
}

/** The request/reply subjects this service answers, by its handlers' @MessagePattern methods. */
export const ANSWERED_REQUESTS = [CompactionRequests, ToolRunRequests, ToolSchemaRequests, ArchivalRequests, MessageSearchRequests, ModelListRequests, McpToolListRequests, McpToolRunRequests];
