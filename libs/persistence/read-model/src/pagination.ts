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
