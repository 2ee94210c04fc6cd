import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { POSTGRES_READINESS, ReadinessChecks, ReadinessModule, withStartupRetries } from '@lrs/config';
import { DataSource } from 'typeorm';
import { createReadModelDataSource, type ReadModelConnectionOptions } from './data-source';
import { RunProjection } from './run-projection';
import { RunQueries } from './run-queries';
import { StepQueries } from './step-queries';
import { TagQueries } from './tag-queries';
import { AgentStore } from './agent-store';
import { AgentSecretStore, ToolStore } from './tool-store';
import { BlockStore } from './block-store';
import { MessageQueries } from './message-queries';
import { ConversationStore } from './conversation-store';
import { ThreadContextStore } from './thread-context-store';
import { StepRecords } from './step-records';
import { ApiKeyStore } from './api-key-store';
import { McpServerStore } from './mcp-server-store';

@Injectable()
class ReadModelLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** A service started while Postgres is down or restarting waits for it instead of exiting. */
function connectWithRetries(options: ReadModelConnectionOptions): Promise<DataSource> {
  return withStartupRetries('connecting to Postgres', () => createReadModelDataSource(options).initialize(), new Logger('Postgres'));
}

@Global()
@Module({})
export class ReadModelModule {
  static forRoot(options: ReadModelConnectionOptions): DynamicModule {
    return {
      module: ReadModelModule,
      imports: [ReadinessModule],
      providers: [
        { provide: DataSource, useFactory: () => connectWithRetries(options) },
        { provide: RunProjection, inject: [DataSource], useFactory: (ds: DataSource) => new RunProjection(ds) },
        { provide: RunQueries, inject: [DataSource], useFactory: (ds: DataSource) => new RunQueries(ds) },
        { provide: StepQueries, inject: [DataSource], useFactory: (ds: DataSource) => new StepQueries(ds) },
        { provide: TagQueries, inject: [DataSource], useFactory: (ds: DataSource) => new TagQueries(ds) },
        { provide: AgentStore, inject: [DataSource], useFactory: (ds: DataSource) => new AgentStore(ds) },
        { provide: ToolStore, inject: [DataSource], useFactory: (ds: DataSource) => new ToolStore(ds) },
        { provide: AgentSecretStore, inject: [DataSource], useFactory: (ds: DataSource) => new AgentSecretStore(ds) },
        { provide: BlockStore, inject: [DataSource], useFactory: (ds: DataSource) => new BlockStore(ds) },
        { provide: MessageQueries, inject: [DataSource], useFactory: (ds: DataSource) => new MessageQueries(ds) },
        { provide: StepRecords, inject: [DataSource], useFactory: (ds: DataSource) => new StepRecords(ds) },
        { provide: ConversationStore, inject: [DataSource], useFactory: (ds: DataSource) => new ConversationStore(ds) },
        { provide: ThreadContextStore, inject: [DataSource], useFactory: (ds: DataSource) => new ThreadContextStore(ds) },
        { provide: ApiKeyStore, inject: [DataSource], useFactory: (ds: DataSource) => new ApiKeyStore(ds) },
        { provide: McpServerStore, inject: [DataSource], useFactory: (ds: DataSource) => new McpServerStore(ds) },
        {
          provide: POSTGRES_READINESS,
          inject: [DataSource, ReadinessChecks],
          useFactory: (ds: DataSource, checks: ReadinessChecks) => checks.add({ name: 'postgres', check: async () => void (await ds.query('SELECT 1')) }),
        },
        ReadModelLifecycle,
      ],
      exports: [ApiKeyStore, McpServerStore, ReadinessModule, DataSource, RunProjection, RunQueries, StepQueries, TagQueries, AgentStore, ToolStore, AgentSecretStore, BlockStore, MessageQueries, ConversationStore, ThreadContextStore, StepRecords],
    };
  }
}
