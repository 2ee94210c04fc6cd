import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createReadModelDataSource, type ReadModelConnectionOptions } from './data-source';
import { RunProjection } from './run-projection';
import { RunQueries } from './run-queries';
import { AgentStore } from './agent-store';
import { ConversationStore } from './conversation-store';
import { ThreadContextStore } from './thread-context-store';
import { ProjectionNotifier } from './projection-notifier';

@Injectable()
class ReadModelLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly notifier: ProjectionNotifier,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.notifier.stop();
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
        {
          provide: ProjectionNotifier,
          useFactory: async () => {
            const notifier = new ProjectionNotifier(options.url);
            await notifier.start();
            return notifier;
          },
        },
        { provide: ConversationStore, inject: [DataSource], useFactory: (ds: DataSource) => new ConversationStore(ds) },
        { provide: ThreadContextStore, inject: [DataSource], useFactory: (ds: DataSource) => new ThreadContextStore(ds) },
        ReadModelLifecycle,
      ],
      exports: [DataSource, RunProjection, RunQueries, AgentStore, ConversationStore, ThreadContextStore, ProjectionNotifier],
    };
  }
}
