import type { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import type { BlockSnapshot } from './agent-snapshot';
import { BlockValueTooLong, blockFromRow, type BlockRow } from './agent-blocks';
import { DEFAULT_BLOCK_CHAR_LIMIT, type MemoryBlockInput } from './agent-store';
import { escapeLike } from './message-queries';
import { keysetConditions, keysetOrder, numberedParams, type KeysetSort, type PageQuery } from './pagination';
import { storableJson, storableText } from './pg-values';

export interface NewBlock extends MemoryBlockInput {
  organizationId: string;
  tags?: string[];
}

/** Letta's block list filters; the searches match a case-insensitive substring, as Letta's do. */
export interface BlockListFilter extends PageQuery {
  label?: string;
  labelSearch?: string;
  valueSearch?: string;
  descriptionSearch?: string;
  tags?: string[];
  matchAllTags?: boolean;
  /** The number of agents the block is attached to: one of these, more than, less than. */
  agentCountIn?: number[];
  agentCountAbove?: number;
  agentCountBelow?: number;
}

/**
 * Memory blocks as a resource of their own (Letta's `/v1/blocks`): made without an agent, listed
 * per organization, deleted from every agent at once. Changes to a block go through
 * `AgentStore.updateBlock` (its value through the edit ledger), attachments through
 * `AgentStore.attachBlock`/`detachBlock`.
 */
export class BlockStore {
  constructor(private readonly dataSource: DataSource) {}

  /** A block attached to no agent; it stays when agents it is later attached to are deleted. BlockValueTooLong when the value exceeds its limit. */
  async create(input: NewBlock): Promise<BlockSnapshot> {
    const limit = input.limit ?? DEFAULT_BLOCK_CHAR_LIMIT;
    const value = storableText(input.value);
    if (value.length > limit) throw new BlockValueTooLong(value.length, limit);
    const [row]: BlockRow[] = await this.dataSource.query(
      `INSERT INTO blocks (id, organization_id, label, value, char_limit, description, read_only, metadata, tags, standalone)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true) RETURNING *`,
      [
        newId('block'),
        input.organizationId,
        storableText(input.label),
        value,
        limit,
        storableText(input.description ?? null),
        input.read_only ?? false,
        input.metadata == null ? null : storableJson(input.metadata),
        (input.tags ?? []).map((tag) => storableText(tag)),
      ],
    );
    return blockFromRow(this.dataSource.manager, row);
  }

  async get(organizationId: string, id: string): Promise<BlockSnapshot | null> {
    const [row]: BlockRow[] = await this.dataSource.query(`SELECT * FROM blocks WHERE id = $1 AND organization_id = $2`, [id, organizationId]);
    return row ? blockFromRow(this.dataSource.manager, row) : null;
  }

  /** The organization's blocks in creation order, whether attached to agents or not. */
  async list(organizationId: string, filter: BlockListFilter): Promise<BlockSnapshot[]> {
    const params: unknown[] = [organizationId];
    const bind = numberedParams(params);
    const where = ['b.organization_id = $1'];
    if (filter.label !== undefined) where.push(`b.label = ${bind(filter.label)}`);
    for (const [column, search] of [['b.label', filter.labelSearch], ['b.value', filter.valueSearch], ['b.description', filter.descriptionSearch]] as const) {
      if (search) where.push(`${column} ILIKE '%' || ${bind(escapeLike(search))} || '%'`);
    }
    if (filter.tags?.length) where.push(`b.tags ${filter.matchAllTags ? '@>' : '&&'} ${bind(filter.tags)}::text[]`);
    const agentCount = '(SELECT count(*) FROM agent_blocks ab WHERE ab.block_id = b.id)';
    if (filter.agentCountIn?.length) where.push(`${agentCount} = ANY (${bind(filter.agentCountIn)}::bigint[])`);
    if (filter.agentCountAbove !== undefined) where.push(`${agentCount} > ${bind(filter.agentCountAbove)}`);
    if (filter.agentCountBelow !== undefined) where.push(`${agentCount} < ${bind(filter.agentCountBelow)}`);
    const sort: KeysetSort = {
      columns: ['b.created_at', 'b.id'],
      keyOf: (cursor, scope) => `SELECT created_at, id FROM blocks WHERE id = ${cursor} AND organization_id = ${scope}`,
      scope: organizationId,
    };
    where.push(...(await keysetConditions(this.dataSource, filter, sort, bind)));
    const rows: BlockRow[] = await this.dataSource.query(
      `SELECT b.* FROM blocks b WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, filter.order)} LIMIT ${bind(filter.limit)}`,
      params,
    );
    return rows.map((row) => blockFromRow(this.dataSource.manager, row));
  }

  /**
   * Detaches the block from every agent and deletes it (its edit history goes with it); false when
   * the organization has no such block. The block is locked first, as edits and renames lock it, so
   * an edit or attach racing the deletion either commits before it or finds the block gone.
   */
  async delete(organizationId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [locked]: unknown[] = await manager.query(`SELECT id FROM blocks WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [id, organizationId]);
      if (!locked) return false;
      await manager.query(`DELETE FROM agent_blocks WHERE block_id = $1`, [id]);
      await manager.query(`DELETE FROM blocks WHERE id = $1`, [id]);
      return true;
    });
  }
}
