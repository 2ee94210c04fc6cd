import type { DataSource } from 'typeorm';
import { numberedParams, type PageQuery } from './pagination';

export interface TagListFilter extends PageQuery {
  /** Tags containing this text, case-insensitively. */
  name?: string;
}

/** The read side of `/v1/tags`: an organization's agents' tags; another organization's are never listed. */
export class TagQueries {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The distinct tags of the organization's agents in byte order; a tag is its own cursor
   * (`after` moves along the requested order, as Letta's).
   */
  async list(organizationId: string, filter: TagListFilter): Promise<string[]> {
    const params: unknown[] = [organizationId];
    const bind = numberedParams(params);
    const where = ['a.organization_id = $1'];
    if (filter.name) where.push(`t.tag ILIKE ${bind(`%${filter.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    const ascending = filter.order === 'asc';
    if (filter.after) where.push(`t.tag COLLATE "C" ${ascending ? '>' : '<'} ${bind(filter.after)}`);
    if (filter.before) where.push(`t.tag COLLATE "C" ${ascending ? '<' : '>'} ${bind(filter.before)}`);
    const rows: { tag: string }[] = await this.dataSource.query(
      `SELECT DISTINCT t.tag COLLATE "C" AS tag FROM agents a CROSS JOIN LATERAL unnest(a.tags) AS t(tag)
       WHERE ${where.join(' AND ')} ORDER BY 1 ${ascending ? 'ASC' : 'DESC'} LIMIT ${bind(filter.limit)}`,
      params,
    );
    return rows.map((row) => row.tag);
  }
}
