import type { DataSource, EntityManager } from 'typeorm';
import { newId } from '@lrs/contracts';
import { keysetConditions, numberedParams, storableJson, storableText, type PageQuery } from '@lrs/read-model';
import { vectorToBytes } from './vectors';

/** A passage ready to store: its text and its embedding (a unit vector) by the archive's model. */
export interface NewPassage {
  id: string;
  text: string;
  tags: readonly string[];
  metadata?: Record<string, unknown> | null;
  createdAt: Date;
  embedding: Float32Array;
}

/** Who wrote passages: a step of a run (its rewrite and discard find them), or the API. */
export interface PassageWriter {
  agentId: string | null;
  runId?: string | null;
  stepId?: string | null;
}

export interface PassageRow {
  id: string;
  organization_id: string;
  archive_id: string;
  text: string;
  tags: string[];
  metadata: Record<string, unknown> | null;
  embedding_model: string;
  embedding_dim: number;
  agent_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ArchiveRow {
  id: string;
  organization_id: string;
  name: string;
  description: string | null;
  embedding_model: string;
  embedding_dim: number | null;
  metadata: Record<string, unknown> | null;
  owner_agent_id: string | null;
  passage_count: number;
  created_at: Date;
  updated_at: Date;
}

/** Archive and the model its passages are embedded with. */
export interface SearchableArchive {
  id: string;
  embeddingModel: string;
  /** The agent whose own archive it is, if any. */
  ownerAgentId: string | null;
}

const PASSAGE_COLUMNS = 'id, organization_id, archive_id, text, tags, metadata, embedding_model, embedding_dim, agent_id, created_at, updated_at';

/**
 * Archives and their passages in Postgres. Every read and write is bounded by the organization;
 * an agent reaches the archives attached to it (its own, made on its first insert, and shared ones).
 * Counts are kept on the archive row in the same transaction as the change, so the system prompt's
 * "N memories in archival memory" costs one indexed read.
 */
// TypeORM answers an UPDATE or DELETE with `[rows, count]`: statements here that need the rows a
// change returns wrap it in a CTE and SELECT them.
export class PassageStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The archives an agent searches, with their models; empty for an agent of another organization. */
  async archivesOf(organizationId: string, agentId: string): Promise<SearchableArchive[]> {
    const rows: { id: string; embedding_model: string; owner_agent_id: string | null }[] = await this.dataSource.query(
      `SELECT a.id, a.embedding_model, a.owner_agent_id FROM archive_agents aa JOIN archives a ON a.id = aa.archive_id
       WHERE aa.agent_id = $1 AND a.organization_id = $2 ORDER BY a.created_at, a.id`,
      [agentId, organizationId],
    );
    return rows.map((row) => ({ id: row.id, embeddingModel: row.embedding_model, ownerAgentId: row.owner_agent_id }));
  }

  /** The agent's own archive (made now if it has none, with the agent's embedding model), locked for the caller's insert. */
  static async ownArchive(manager: EntityManager, organizationId: string, agent: { id: string; name: string }, embeddingModel: string): Promise<ArchiveRow> {
    await manager.query(
      `INSERT INTO archives (id, organization_id, name, embedding_model, owner_agent_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner_agent_id) WHERE owner_agent_id IS NOT NULL DO NOTHING`,
      [newId('archive'), organizationId, storableText(`${agent.name}'s archive`), embeddingModel, agent.id],
    );
    const [archive]: ArchiveRow[] = await manager.query(`SELECT * FROM archives WHERE owner_agent_id = $1 FOR UPDATE`, [agent.id]);
    await manager.query(`INSERT INTO archive_agents (archive_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [archive.id, agent.id]);
    return archive;
  }

  /** Locks an archive of the organization for an insert; null when there is none. */
  static async lockArchive(manager: EntityManager, organizationId: string, archiveId: string): Promise<ArchiveRow | null> {
    const [archive]: ArchiveRow[] = await manager.query(`SELECT * FROM archives WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [archiveId, organizationId]);
    return archive ?? null;
  }

  /**
   * Stores passages in a locked archive (ids already stored are left alone: a retried write adds
   * nothing) and counts them on the archive. Answers the rows as stored.
   */
  static async insert(manager: EntityManager, archive: ArchiveRow, writer: PassageWriter, passages: readonly NewPassage[]): Promise<PassageRow[]> {
    if (passages.length === 0) return [];
    const dim = passages[0].embedding.length;
    const rows: PassageRow[] = await manager.query(
      `INSERT INTO passages (id, organization_id, archive_id, text, tags, metadata, embedding, embedding_model, embedding_dim, agent_id, run_id, step_id, created_at)
       SELECT p.id, p.organization_id, p.archive_id, p.text, ARRAY(SELECT jsonb_array_elements_text(p.tags)), p.metadata, p.embedding, p.embedding_model,
              p.embedding_dim, p.agent_id, p.run_id, p.step_id, p.created_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::bytea[], $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])
         AS p (id, organization_id, archive_id, text, tags, metadata, embedding, embedding_model, embedding_dim, agent_id, run_id, step_id, created_at)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${PASSAGE_COLUMNS}`,
      [
        passages.map((p) => p.id),
        passages.map(() => archive.organization_id),
        passages.map(() => archive.id),
        passages.map((p) => storableText(p.text)),
        passages.map((p) => storableJson(p.tags.map((tag) => storableText(tag)))),
        passages.map((p) => (p.metadata ? storableJson(p.metadata) : null)),
        passages.map((p) => vectorToBytes(p.embedding)),
        passages.map(() => archive.embedding_model),
        passages.map((p) => p.embedding.length),
        passages.map(() => writer.agentId),
        passages.map(() => writer.runId ?? null),
        passages.map(() => writer.stepId ?? null),
        passages.map((p) => p.createdAt.toISOString()),
      ],
    );
    await manager.query(
      `UPDATE archives SET passage_count = passage_count + $2, embedding_dim = coalesce(embedding_dim, $3), updated_at = now() WHERE id = $1`,
      [archive.id, rows.length, dim],
    );
    return rows;
  }

  /** Ids of a step's passages already stored. */
  static async storedIds(manager: EntityManager, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string }[] = await manager.query(`SELECT id FROM passages WHERE id = ANY ($1)`, [[...ids]]);
    return new Set(rows.map((row) => row.id));
  }

  /** Passages by id, in the order asked, of the organization only. */
  async byIds(organizationId: string, ids: readonly string[]): Promise<PassageRow[]> {
    if (ids.length === 0) return [];
    const rows: PassageRow[] = await this.dataSource.query(`SELECT ${PASSAGE_COLUMNS} FROM passages WHERE id = ANY ($1) AND organization_id = $2`, [[...ids], organizationId]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id)).filter((row): row is PassageRow => row !== undefined);
  }

  /** An agent's passages (in every archive attached to it), oldest first unless descending; `search` matches text case-insensitively. */
  async listForAgent(organizationId: string, agentId: string, page: PageQuery, search: string | null): Promise<PassageRow[]> {
    return this.list(organizationId, page, search, `p.archive_id IN (SELECT archive_id FROM archive_agents WHERE agent_id = `, agentId);
  }

  async listForArchive(organizationId: string, archiveId: string, page: PageQuery, search: string | null): Promise<PassageRow[]> {
    return this.list(organizationId, page, search, `p.archive_id = (`, archiveId);
  }

  /** The passages of the agent's own archive, oldest first, at most `limit` (an agent file carries them). */
  async ownPassages(organizationId: string, agentId: string, limit: number): Promise<PassageRow[]> {
    return this.dataSource.query(
      `SELECT ${PASSAGE_COLUMNS.split(', ').map((column) => `p.${column}`).join(', ')} FROM passages p JOIN archives a ON a.id = p.archive_id
       WHERE a.owner_agent_id = $1 AND a.organization_id = $2 ORDER BY p.created_at, p.id LIMIT $3`,
      [agentId, organizationId, limit],
    );
  }

  /** Newest passages matching filters, for a search without a query. */
  async newest(organizationId: string, archiveIds: readonly string[], filter: { tags?: readonly string[] | null; tagMatchMode?: 'any' | 'all'; start?: Date | null; end?: Date | null }, limit: number): Promise<PassageRow[]> {
    const params: unknown[] = [[...archiveIds], organizationId, limit];
    const bind = numberedParams(params);
    const conditions = ['p.archive_id = ANY ($1)', 'p.organization_id = $2'];
    if (filter.tags?.length) conditions.push(`p.tags ${filter.tagMatchMode === 'all' ? '@>' : '&&'} ${bind([...filter.tags])}::text[]`);
    if (filter.start) conditions.push(`p.created_at >= ${bind(filter.start.toISOString())}`);
    if (filter.end) conditions.push(`p.created_at <= ${bind(filter.end.toISOString())}`);
    return this.dataSource.query(`SELECT ${PASSAGE_COLUMNS} FROM passages p WHERE ${conditions.join(' AND ')} ORDER BY p.created_at DESC, p.id DESC LIMIT $3`, params);
  }

  private async list(organizationId: string, page: PageQuery, search: string | null, scope: string, scopeId: string): Promise<PassageRow[]> {
    const params: unknown[] = [organizationId];
    const bind = numberedParams(params);
    const conditions = ['p.organization_id = $1', `${scope}${bind(scopeId)})`];
    if (search) conditions.push(`strpos(lower(p.text), lower(${bind(storableText(search))})) > 0`);
    const select = PASSAGE_COLUMNS.split(', ').map((column) => `p.${column}`).join(', ');
    return this.pageByCreation({ table: 'passages', alias: 'p', select }, conditions, params, page);
  }

  /** One page of a table's rows of the organization ($1), newest or oldest first by (created_at, id), with Letta's cursors. */
  private async pageByCreation<T>(from: { table: 'passages' | 'archives'; alias: string; select: string }, conditions: string[], params: unknown[], page: PageQuery): Promise<T[]> {
    const bind = numberedParams(params);
    const { table, alias, select } = from;
    const cursorConditions = await keysetConditions(
      this.dataSource,
      page,
      { columns: [`${alias}.created_at`, `${alias}.id`], keyOf: (cursor, org) => `SELECT created_at, id FROM ${table} WHERE id = ${cursor} AND organization_id = ${org}`, scope: params[0] },
      bind,
    );
    const direction = page.order === 'asc' ? 'ASC' : 'DESC';
    return this.dataSource.query(
      `SELECT ${select} FROM ${table} ${alias} WHERE ${[...conditions, ...cursorConditions].join(' AND ')}
       ORDER BY ${alias}.created_at ${direction}, ${alias}.id ${direction} LIMIT ${bind(page.limit)}`,
      params,
    );
  }

  /** Deletes a passage of an archive the agent has (or of the named archive); false when there is none. */
  async delete(organizationId: string, passageId: string, scope: { agentId: string } | { archiveId: string }): Promise<boolean> {
    const within = 'agentId' in scope ? `archive_id IN (SELECT archive_id FROM archive_agents WHERE agent_id = $3)` : `archive_id = $3`;
    const rows: unknown[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM passages WHERE id = $1 AND organization_id = $2 AND ${within} RETURNING archive_id),
       counted AS (UPDATE archives a SET passage_count = passage_count - 1, generation = generation + 1, updated_at = now() FROM gone WHERE a.id = gone.archive_id)
       SELECT archive_id FROM gone`,
      [passageId, organizationId, 'agentId' in scope ? scope.agentId : scope.archiveId],
    );
    return rows.length > 0;
  }

  // --- archives -------------------------------------------------------------------------------

  async createArchive(organizationId: string, input: { name: string; description: string | null; embeddingModel: string; metadata: Record<string, unknown> | null }): Promise<ArchiveRow> {
    const [row]: ArchiveRow[] = await this.dataSource.query(
      `INSERT INTO archives (id, organization_id, name, description, embedding_model, metadata) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [newId('archive'), organizationId, storableText(input.name), storableText(input.description), input.embeddingModel, input.metadata ? storableJson(input.metadata) : null],
    );
    return row;
  }

  async getArchive(organizationId: string, archiveId: string): Promise<ArchiveRow | null> {
    const [row]: ArchiveRow[] = await this.dataSource.query(`SELECT * FROM archives WHERE id = $1 AND organization_id = $2`, [archiveId, organizationId]);
    return row ?? null;
  }

  async updateArchive(organizationId: string, archiveId: string, changes: { name?: string; description?: string | null }): Promise<ArchiveRow | null> {
    const [row]: ArchiveRow[] = await this.dataSource.query(
      `WITH changed AS (UPDATE archives SET name = coalesce($3, name), description = CASE WHEN $4 THEN $5 ELSE description END, updated_at = now()
       WHERE id = $1 AND organization_id = $2 RETURNING *) SELECT * FROM changed`,
      [archiveId, organizationId, changes.name === undefined ? null : storableText(changes.name), changes.description !== undefined, storableText(changes.description ?? null)],
    );
    return row ?? null;
  }

  async listArchives(organizationId: string, page: PageQuery, filter: { agentId?: string | null; name?: string | null }): Promise<ArchiveRow[]> {
    const params: unknown[] = [organizationId];
    const bind = numberedParams(params);
    const conditions = ['a.organization_id = $1'];
    if (filter.agentId) conditions.push(`a.id IN (SELECT archive_id FROM archive_agents WHERE agent_id = ${bind(filter.agentId)})`);
    if (filter.name) conditions.push(`a.name = ${bind(storableText(filter.name))}`);
    return this.pageByCreation({ table: 'archives', alias: 'a', select: 'a.*' }, conditions, params, page);
  }

  /** Deletes the archive with its passages, detaching it from every agent. */
  async deleteArchive(organizationId: string, archiveId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`WITH gone AS (DELETE FROM archives WHERE id = $1 AND organization_id = $2 RETURNING id) SELECT id FROM gone`, [archiveId, organizationId]);
    return rows.length > 0;
  }

  /** Attaches an archive of the organization to its agent; false when either is not the organization's. */
  async attach(organizationId: string, agentId: string, archiveId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO archive_agents (archive_id, agent_id)
       SELECT a.id, g.id FROM archives a, agents g WHERE a.id = $1 AND a.organization_id = $3 AND g.id = $2 AND g.organization_id = $3
       ON CONFLICT DO NOTHING RETURNING archive_id`,
      [archiveId, agentId, organizationId],
    );
    return rows.length > 0 || (await this.attached(agentId, archiveId));
  }

  async detach(organizationId: string, agentId: string, archiveId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM archive_agents aa USING archives a WHERE aa.archive_id = $1 AND aa.agent_id = $2 AND a.id = aa.archive_id AND a.organization_id = $3
       RETURNING aa.archive_id) SELECT archive_id FROM gone`,
      [archiveId, agentId, organizationId],
    );
    return rows.length > 0;
  }

  private async attached(agentId: string, archiveId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM archive_agents WHERE agent_id = $1 AND archive_id = $2`, [agentId, archiveId]);
    return rows.length > 0;
  }
}
