import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * A statement the run path sends on every run, sent by name: each connection parses and plans it
 * once (a prepared statement), and Postgres reuses a generic plan when it costs no more than
 * planning again. Parsing and planning these statements took more of Postgres' time than running
 * them (docs/run-path.md, "Work per run"). Their results name their columns (no `*`): a migration
 * that adds a column must not change what a prepared statement returns.
 *
 * Only statements whose plans do not hinge on their parameters' values are named: a `LIMIT $n`
 * over a thread, say, stays unnamed, so it is planned for the value it gets.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

export function namedStatement(text: string): NamedStatement {
  return { name: `lrs_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text };
}

/** Data sources whose statements go unnamed (DB_PREPARED_STATEMENTS=false). */
const UNNAMED = new WeakSet<DataSource>();

/** Sends `dataSource`'s named statements unnamed: for a pooler that does not keep a session's prepared statements. */
export function sendStatementsUnnamed(dataSource: DataSource): void {
  UNNAMED.add(dataSource);
}

/** Runs a named statement on a data source, or inside a transaction (an EntityManager). */
export function runNamed<T>(on: DataSource | EntityManager, statement: NamedStatement, params: readonly unknown[]): Promise<T> {
  const dataSource = on instanceof DataSource ? on : on.connection;
  // TypeORM hands the query to node-postgres as it is, and node-postgres takes { name, text } as a
  // prepared statement (parsed once per connection).
  const query = UNNAMED.has(dataSource) ? statement.text : (statement as unknown as string);
  return on.query(query, [...params]);
}

/** The text of a query TypeORM was given, named or not (for logs). */
export function queryText(query: string | NamedStatement): string {
  return typeof query === 'string' ? query : query.text;
}
