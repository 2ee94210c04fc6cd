import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createReadModelDataSource, type ReadModelConnectionOptions } from './data-source';
import { RunProjection } from './run-projection';
import { RunQueries } from './run-queries';
import { AgentStore } from './agent-store';
import { ConversationStore } from './conversation-store';
import { ThreadContextStore } from './thread-context-store';
import { StepRecords } from './step-records';

@Injectable()
class ReadModelLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Global()
@Module({})
export class ReadModelModule {
  static forRoot(options: ReadModelConnectionOptions): DynamicModule {
    return {
      module: ReadModelModule,
      providers: [
        { provide: DataSource, useFactory: () => createReadModelDataSource(options).initialize() },
        { provide: RunProjection, inject: [DataSource], useFactory: (ds: DataSource) => new RunProjection(ds) },
        { provide: RunQueries, inject: [DataSource], useFactory: (ds: DataSource) => new RunQueries(ds) },
        { provide: AgentStore, inject: [DataSource], useFactory: (ds: DataSource) => new AgentStore(ds) },
        { provide: StepRecords, inject: [DataSource], useFactory: (ds: DataSource) => new StepRecords(ds) },
        { provide: ConversationStore, inject: [DataSource], useFactory: (ds: DataSource) => new ConversationStore(ds) },
        { provide: ThreadContextStore, inject: [DataSource], useFactory: (ds: DataSource) => new ThreadContextStore(ds) },
        ReadModelLifecycle,
      ],
      exports: [DataSource, RunProjection, RunQueries, AgentStore, ConversationStore, ThreadContextStore, StepRecords],
    };
  }
}
