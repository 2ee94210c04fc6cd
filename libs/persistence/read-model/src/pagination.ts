import type { DataSource } from 'typeorm';

/** Letta list paging: `before`/`after` id cursors, `limit`, `order`, as the README's API section describes. */
export interface PageQuery {
  before?: string | null;
  after?: string | null;
  limit: number;
  order: 'asc' | 'desc';
}

/** The cursor row's sort key was not found (unknown or foreign id). */
export class UnknownCursor extends Error {
  constructor(readonly cursor: string) {
    super(`cursor ${cursor} does not name an item of this list`);
  }
}

/** How a list is sorted: its sort key's columns, and how to read the key of the row a cursor names. */
export interface KeysetSort {
  /** The key's columns as the list query names them, most significant first (the last one unique). */
  columns: readonly string[];
  /** The query that reads the cursor row's key (its columns in `columns` order), from the placeholders of the cursor id and the scope. */
  keyOf: (cursor: string, scope: string) => string;
  /** What bounds the list (organization, agent, run), so a cursor from another list is unknown. */
  scope: unknown;
  /**
   * Whether `after` moves along the requested order (Letta's lists, the official client's
   * auto-pagination) or always towards larger keys (a run's messages).
   */
  cursors?: 'follow-order' | 'ascending';
}

/** Adds a bound value to the query and answers its placeholder. */
export type Bind = (value: unknown) => string;

/** A bind for numbered parameters ($1, $2, ...) collected in `params`. */
export function numberedParams(params: unknown[]): Bind {
  return (value) => {
    params.push(value);
    return `$${params.length}`;
  };
}

/**
 * Keyset pagination, the one way every list pages: the `before`/`after` cursors become
 * conditions on the sort key (`(created_at, id) > (key of the cursor row)`), so a page costs an
 * index range scan however deep it is, and rows added meanwhile neither repeat nor skip. The
 * cursor row's key is compared inside Postgres (a subquery): read into JavaScript, a timestamp
 * would lose its microseconds and the cursor row would come back on the next page. Throws
 * UnknownCursor for a cursor that names no row of the list.
 */
export async function keysetConditions(db: Pick<DataSource, 'query'>, page: PageQuery, sort: KeysetSort, bind: Bind): Promise<string[]> {
  const conditions: string[] = [];
  for (const [cursor, forward] of [[page.after, true], [page.before, false]] as const) {
    if (!cursor) continue;
    const keys: unknown[] = await db.query(sort.keyOf('$1', '$2'), [cursor, sort.scope]);
    if (keys.length === 0) throw new UnknownCursor(cursor);
    const ascending = sort.cursors === 'ascending' ? forward : page.order === 'asc' ? forward : !forward;
    const columns = sort.columns.length === 1 ? sort.columns[0] : `(${sort.columns.join(', ')})`;
    conditions.push(`${columns} ${ascending ? '>' : '<'} (${sort.keyOf(bind(cursor), bind(sort.scope))})`);
  }
  return conditions;
}

/** The ORDER BY of a keyset-paged list in the requested order. */
export function keysetOrder(sort: Pick<KeysetSort, 'columns'>, order: PageQuery['order']): string {
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  return sort.columns.map((column) => `${column} ${direction}`).join(', ');
}
