import type { EntityManager } from 'typeorm';
import { BlockEntity } from './entities/block.entity';

/** Block ids that name no block of the organization (or, for a detach, none attached to the agent). */
export class UnknownBlocks extends Error {
  constructor(
    readonly ids: string[],
    where = '',
  ) {
    super(`Block${ids.length > 1 ? 's' : ''} with ID ${ids.join(', ')} not found${where}`);
  }
}

/** Attaching the block would give the agent more blocks than the server allows. */
export class TooManyBlocks extends Error {
  constructor(readonly max: number) {
    super(`an agent has at most ${max} memory blocks`);
  }
}

/** A block's value would be longer than its limit. */
export class BlockValueTooLong extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`value: ${length} characters exceed the block limit of ${limit}`);
  }
}

/** An attachment or rename would give an agent two blocks with one label. */
export class BlockLabelTaken extends Error {
  constructor(readonly label: string) {
    super(`an agent this block is attached to already has a block labelled '${label}'`);
  }
}

const UNIQUE_VIOLATION = '23505';

/**
 * Runs a write whose unique-label violation (agent_blocks_label_unique) is the caller's conflict,
 * not a server error: the database's word on labels, for writes racing the callers' own checks.
 */
export async function guardingLabels<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const cause = (error as { driverError?: PostgresError }).driverError ?? (error as PostgresError);
    if (cause?.code !== UNIQUE_VIOLATION || cause.constraint !== 'agent_blocks_label_unique') throw error;
    // Postgres names the clash: "Key (agent_id, block_label)=(agent-..., human) already exists."
    throw new BlockLabelTaken(/=\([^,]+, (.*)\) already exists/.exec(cause.detail ?? '')?.[1] ?? 'the same label');
  }
}

interface PostgresError {
  code?: string;
  constraint?: string;
  detail?: string;
}

/** The blocks attached to each of the agents, in prompt order. */
export async function blocksOfAgents(manager: EntityManager, agentIds: string[]): Promise<Map<string, BlockEntity[]>> {
  const byAgent = new Map<string, BlockEntity[]>(agentIds.map((id) => [id, []]));
  if (agentIds.length === 0) return byAgent;
  const rows: (BlockRow & { attached_to: string })[] = await manager.query(
    `SELECT ab.agent_id AS attached_to, b.* FROM agent_blocks ab JOIN blocks b ON b.id = ab.block_id
     WHERE ab.agent_id = ANY ($1) ORDER BY ab.position, b.id`,
    [agentIds],
  );
  for (const row of rows) byAgent.get(row.attached_to)?.push(blockFromRow(manager, row));
  return byAgent;
}

/**
 * Attaches blocks after the agent's current ones. The agent row is locked so concurrent attaches
 * number positions one after another; each block is share-locked so that an agent deletion
 * clearing out unattached blocks cannot remove it meanwhile.
 */
export async function attachBlocks(manager: EntityManager, organizationId: string, agentId: string, blockIds: string[]): Promise<BlockEntity[]> {
  if (blockIds.length === 0) return [];
  await manager.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [agentId]);
  const rows: BlockRow[] = await manager.query(`SELECT * FROM blocks WHERE id = ANY ($1) AND organization_id = $2 FOR SHARE`, [blockIds, organizationId]);
  const found = new Map(rows.map((row) => [row.id, blockFromRow(manager, row)]));
  const missing = blockIds.filter((id) => !found.has(id));
  if (missing.length) throw new UnknownBlocks(missing);
  const blocks = blockIds.map((id) => found.get(id)!);
  // The ordinary clash is found here; the constraint (through guardingLabels) catches only races, so logs stay quiet.
  const labels = blocks.map((block) => block.label);
  const taken: { block_label: string }[] = await manager.query(
    `SELECT block_label FROM agent_blocks WHERE agent_id = $1 AND block_label = ANY ($2) AND NOT (block_id = ANY ($3)) LIMIT 1`,
    [agentId, labels, blockIds],
  );
  const clash = taken[0]?.block_label ?? labels.find((label, index) => labels.indexOf(label) !== index);
  if (clash !== undefined) throw new BlockLabelTaken(clash);
  await guardingLabels(() =>
    manager.query(
      `INSERT INTO agent_blocks (agent_id, block_id, block_label, position)
       SELECT $1, block.id, block.label, coalesce((SELECT max(position) FROM agent_blocks WHERE agent_id = $1), -1) + block.ordinality
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS block (id, label, ordinality)
       ON CONFLICT (agent_id, block_id) DO NOTHING`,
      [agentId, blocks.map((block) => block.id), blocks.map((block) => block.label)],
    ),
  );
  return blocks;
}

export interface BlockRow {
  id: string;
  organization_id: string;
  label: string;
  value: string;
  char_limit: number;
  description: string | null;
  read_only: boolean;
  metadata: Record<string, unknown> | null;
  tags: string[];
  /** Made through the blocks API: kept when the last agent that has it is deleted. */
  standalone: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function blockFromRow(manager: EntityManager, row: BlockRow): BlockEntity {
  return manager.create(BlockEntity, {
    id: row.id,
    organizationId: row.organization_id,
    label: row.label,
    value: row.value,
    charLimit: row.char_limit,
    description: row.description,
    readOnly: row.read_only,
    metadata: row.metadata,
    tags: row.tags ?? [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
