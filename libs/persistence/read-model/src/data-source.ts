import { Logger as NestLogger } from '@nestjs/common';
import { DataSource, type Logger } from 'typeorm';
import { queryText, sendStatementsUnnamed, type NamedStatement } from './named-statements';
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
import { ApiKeys1732320000000 } from './migrations/1732320000000-api-keys';
import { ThreadReset1732330000000 } from './migrations/1732330000000-thread-reset';
import { BlockEdits1732340000000 } from './migrations/1732340000000-block-edits';
import { ArchivalMemory1732350000000 } from './migrations/1732350000000-archival-memory';
import { StandaloneBlocks1732360000000 } from './migrations/1732360000000-standalone-blocks';
import { StepFeedback1732370000000 } from './migrations/1732370000000-step-feedback';
import { MessageSearch1732380000000 } from './migrations/1732380000000-message-search';
import { MessageEmbeddings1732390000000 } from './migrations/1732390000000-message-embeddings';
import { BlockChanges1732400000000 } from './migrations/1732400000000-block-changes';
import { CustomTools1732410000000 } from './migrations/1732410000000-custom-tools';
import { Schedules1732420000000 } from './migrations/1732420000000-schedules';
import { McpServers1732430000000 } from './migrations/1732430000000-mcp-servers';

export const READ_MODEL_ENTITIES = [AgentEntity, BlockEntity];
export const READ_MODEL_MIGRATIONS = [InitialReadModel1732240000000, RunApprovalOptions1732250000000, RunDeletion1732260000000, Conversations1732270000000, ThreadContexts1732280000000, SharedBlocks1732290000000, RunPathMessages1732300000000, MessageTokens1732310000000, ApiKeys1732320000000, ThreadReset1732330000000, BlockEdits1732340000000, ArchivalMemory1732350000000, StandaloneBlocks1732360000000, StepFeedback1732370000000, MessageSearch1732380000000, MessageEmbeddings1732390000000, BlockChanges1732400000000, CustomTools1732410000000, Schedules1732420000000, McpServers1732430000000];

export interface ReadModelConnectionOptions {
  url: string;
  /** Connections in this process's pool. */
  poolSize?: number;
  applicationName?: string;
  /**
   * Postgres cancels a statement running longer than this (0: never). Services keep the default
   * (DB_STATEMENT_TIMEOUT_MS), so a stuck query fails and is retried instead of holding a
   * connection for good; migrations and the rebuild, which may scan whole tables, pass 0.
   */
  statementTimeoutMs?: number;
  /**
   * The run path's hot statements go as prepared statements (named-statements.ts); false sends
   * them unnamed, for PgBouncer before 1.21 in transaction mode (DB_PREPARED_STATEMENTS).
   */
  preparedStatements?: boolean;
}

/** How long a new connection may take before the attempt fails (and the caller retries or answers 503). */
const CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/** What a log line shows of a statement: its first line, at most 200 characters. */
function firstLineOf(query: string | NamedStatement): string {
  return queryText(query).trim().split('\n')[0].slice(0, 200);
}

/**
 * Query failures are logged with the statement's first line only: never its parameters, which
 * carry what users wrote (messages, memory), and never megabytes of SQL.
 */
class RedactingLogger implements Logger {
  private readonly logger = new NestLogger('Postgres');

  logQueryError(error: string | Error, query: string | NamedStatement): void {
    this.logger.error(`query failed: ${error instanceof Error ? error.message : error} (${firstLineOf(query)}…)`);
  }
  logQuery(): void {}
  logQuerySlow(time: number, query: string | NamedStatement): void {
    this.logger.warn(`slow query (${time} ms): ${firstLineOf(query)}…`);
  }
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.logger.log(message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}

/** Schema changes only through migrations; `synchronize` stays off everywhere. */
export function createReadModelDataSource(options: ReadModelConnectionOptions): DataSource {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    entities: READ_MODEL_ENTITIES,
    migrations: READ_MODEL_MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    logger: new RedactingLogger(),
    applicationName: options.applicationName,
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      // A transaction left open by a crashed handler must not hold its locks for ever.
      idle_in_transaction_session_timeout: 60_000,
    },
  });
  if (options.preparedStatements === false) sendStatementsUnnamed(dataSource);
  return dataSource;
}

export async function runReadModelMigrations(url: string): Promise<string[]> {
  const dataSource = createReadModelDataSource({ url, poolSize: 1, applicationName: 'migrate', statementTimeoutMs: 0 });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
