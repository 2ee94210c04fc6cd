import type { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { keysetConditions, keysetOrder, numberedParams, type KeysetSort, type PageQuery } from './pagination';
import { isoUtc } from './wire-format';
import { ThreadContextStore } from './thread-context-store';

interface ConversationRow {
  id: string;
  organization_id: string;
  agent_id: string;
  summary: string | null;
  model: string | null;
  isolated_block_labels: string[];
  created_at: Date;
  updated_at: Date;
  last_message_at: Date | null;
}

/** Letta's Conversation object. */
export function toConversationView(row: ConversationRow) {
  return {
    id: row.id,
    agent_id: row.agent_id,
    summary: row.summary,
    in_context_message_ids: [],
    isolated_block_ids: [],
    model: row.model,
    model_settings: null,
    last_message_at: isoUtc(row.last_message_at),
    created_at: isoUtc(row.created_at),
    updated_at: isoUtc(row.updated_at),
    created_by_id: null,
    last_updated_by_id: null,
  };
}
export type ConversationView = ReturnType<typeof toConversationView>;

const SELECT = `SELECT c.*, (SELECT max(m.created_at) FROM messages m JOIN runs r ON r.id = m.run_id WHERE r.conversation_id = c.id) AS last_message_at
  FROM conversations c`;

/** Conversations are configuration like agents: written directly, read back at once. */
export class ConversationStore {
  private readonly contexts: ThreadContextStore;

  constructor(private readonly dataSource: DataSource) {
    this.contexts = new ThreadContextStore(dataSource);
  }

  /** With `inheritedMessageIds` (a fork), the new conversation's context starts from those messages. */
  async create(
    organizationId: string,
    agentId: string,
    input: { summary?: string | null; model?: string | null; isolatedBlockLabels?: string[]; inheritedMessageIds?: string[]; hidden?: boolean },
  ): Promise<ConversationView> {
    const id = newId('conv');
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO conversations (id, organization_id, agent_id, summary, model, isolated_block_labels, hidden) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [id, organizationId, agentId, input.summary ?? null, input.model ?? null, input.isolatedBlockLabels ?? [], input.hidden ?? false],
      );
      if (input.inheritedMessageIds) await this.contexts.inherit({ organizationId, agentId, laneId: id }, input.inheritedMessageIds, manager);
    });
    return (await this.get(organizationId, id))!;
  }

  async get(organizationId: string, id: string): Promise<ConversationView | null> {
    const rows: ConversationRow[] = await this.dataSource.query(`${SELECT} WHERE c.id = $1 AND c.organization_id = $2`, [id, organizationId]);
    return rows[0] ? toConversationView(rows[0]) : null;
  }

  async list(organizationId: string, agentId: string | undefined, page: PageQuery): Promise<ConversationView[]> {
    const params: unknown[] = [organizationId];
    const where = ['c.organization_id = $1', 'NOT c.hidden'];
    if (agentId) {
      params.push(agentId);
      where.push(`c.agent_id = $${params.length}`);
    }
    const sort: KeysetSort = {
      columns: ['c.created_at', 'c.id'],
      keyOf: (cursor, scope) => `SELECT created_at, id FROM conversations WHERE id = ${cursor} AND organization_id = ${scope}`,
      scope: organizationId,
    };
    where.push(...(await keysetConditions(this.dataSource, page, sort, numberedParams(params))));
    params.push(page.limit);
    const rows: ConversationRow[] = await this.dataSource.query(
      `${SELECT} WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, page.order)} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toConversationView);
  }

  async update(organizationId: string, id: string, changes: { summary?: string | null }): Promise<ConversationView | null> {
    if (changes.summary !== undefined) {
      await this.dataSource.query(`UPDATE conversations SET summary = $3, updated_at = now() WHERE id = $1 AND organization_id = $2`, [id, organizationId, changes.summary]);
    }
    return this.get(organizationId, id);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [{ deleted }]: { deleted: boolean }[] = await manager.query(
        `WITH gone AS (DELETE FROM conversations WHERE id = $1 AND organization_id = $2 RETURNING id) SELECT count(*) > 0 AS deleted FROM gone`,
        [id, organizationId],
      );
      if (deleted) await this.contexts.forget(id, manager);
      return deleted;
    });
  }
}
