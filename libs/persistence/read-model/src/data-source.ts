import { DataSource } from 'typeorm';
import { AgentEntity } from './entities/agent.entity';
import { BlockEntity } from './entities/block.entity';
import { InitialReadModel1732240000000 } from './migrations/1732240000000-initial-read-model';
import { RunApprovalOptions1732250000000 } from './migrations/1732250000000-run-approval-options';
import { RunDeletion1732260000000 } from './migrations/1732260000000-run-deletion';
import { Conversations1732270000000 } from './migrations/1732270000000-conversations';
import { ThreadContexts1732280000000 } from './migrations/1732280000000-thread-contexts';
import { SharedBlocks1732290000000 } from './migrations/1732290000000-shared-blocks';
import { RunPathMessages1732300000000 } from './migrations/1732300000000-run-path-messages';
import { MessageTokens1732310000000 } from './migrations/1732310000000-message-tokens';

export const READ_MODEL_ENTITIES = [AgentEntity, BlockEntity];
export const READ_MODEL_MIGRATIONS = [InitialReadModel1732240000000, RunApprovalOptions1732250000000, RunDeletion1732260000000, Conversations1732270000000, ThreadContexts1732280000000, SharedBlocks1732290000000, RunPathMessages1732300000000, MessageTokens1732310000000];

export interface ReadModelConnectionOptions {
  url: string;
  /** Connections in this process's pool. */
  poolSize?: number;
  applicationName?: string;
}

/** Schema changes only through migrations; `synchronize` stays off everywhere. */
export function createReadModelDataSource(options: ReadModelConnectionOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: READ_MODEL_ENTITIES,
    migrations: READ_MODEL_MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    applicationName: options.applicationName,
    extra: { max: options.poolSize ?? 10 },
  });
}

export async function runReadModelMigrations(url: string): Promise<string[]> {
  const dataSource = createReadModelDataSource({ url, poolSize: 1, applicationName: 'migrate' });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
