import type { DataSource, EntityManager, Repository } from 'typeorm';
import { newId, type MemoryEdit } from '@lrs/contracts';
import { AgentEntity } from './entities/agent.entity';
import { BlockEntity } from './entities/block.entity';
import { keysetConditions, type Bind, type KeysetSort, type PageQuery } from './pagination';
import type { AgentSnapshot, BlockSnapshot } from './agent-snapshot';
import { attachBlocks, BlockLabelTaken, BlockValueTooLong, TooManyBlocks, blockFromRow, blocksOfAgents, guardingLabels, UnknownBlocks, type BlockRow } from './agent-blocks';
import { storableJson, storableText } from './pg-values';
import { namedStatement, runNamed } from './named-statements';
import { BlockEditLedger, editsOfEvent, type EditWriter } from './block-edit-ledger';
import { customToolsOfAgents, replaceSecrets, secretKeysOfAgents, toolFromRow } from './tool-store';

export interface MemoryBlockInput {
  label: string;
  value: string;
  limit?: number;
  description?: string | null;
  read_only?: boolean;
  metadata?: Record<string, unknown> | null;
}

export interface NewAgent {
  organizationId: string;
  name: string;
  system: string;
  agentType: string;
  model: string;
  embedding: string | null;
  llmConfig: Record<string, unknown>;
  memoryBlocks: MemoryBlockInput[];
  /** Existing blocks to share with the new agent; they come before its own in the prompt, as in Letta. */
  blockIds?: string[];
  tags: string[];
  description: string | null;
  metadata: Record<string, unknown> | null;
  toolRules: unknown[];
  toolNames: string[];
  extra: Record<string, unknown>;
  /** The environment of the agent's tools (values never shown again). */
  secrets?: Record<string, string>;
}

export interface AgentChanges {
  name?: string;
  system?: string;
  model?: string;
  /** Merged into the stored llm_config, not replacing it. */
  llmConfig?: Record<string, unknown>;
  tags?: string[];
  description?: string | null;
  metadata?: Record<string, unknown> | null;
  toolRules?: unknown[];
  toolNames?: string[];
  /** Replaces the agent's secrets (see replaceSecrets). */
  secrets?: Record<string, string>;
  /** The agent's blocks become exactly these: others are detached (and kept), new ones attached after the rest. */
  blockIds?: string[];
}

export interface BlockChanges {
  label?: string;
  value?: string;
  limit?: number;
  description?: string | null;
  readOnly?: boolean;
  metadata?: Record<string, unknown> | null;
  tags?: string[];
}

export interface AgentListFilter extends PageQuery {
  name?: string;
  tags?: string[];
  matchAllTags?: boolean;
  /** Only the agents this block is attached to. */
  blockId?: string;
}

export const DEFAULT_BLOCK_CHAR_LIMIT = 100_000;

/** The agent with its blocks, archival count, tools and secret names: every step of every run reads it. */
const AGENT_SNAPSHOT = namedStatement(
  `SELECT a.id, a.organization_id, a.name, a.description, a.system, a.agent_type, a.model, a.embedding, a.llm_config, a.tags, a.metadata,
     a.tool_rules, a.tool_names, a.extra, a.last_run_completion, a.last_run_duration_ms, a.last_stop_reason, a.created_at, a.updated_at,
     coalesce((
       SELECT json_agg(b ORDER BY ab.position, b.id) FROM agent_blocks ab JOIN blocks b ON b.id = ab.block_id WHERE ab.agent_id = a.id
     ), '[]'::json) AS blocks_json,
     (SELECT coalesce(sum(ar.passage_count), 0)::int FROM archive_agents aa JOIN archives ar ON ar.id = aa.archive_id WHERE aa.agent_id = a.id) AS archival_count,
     coalesce((SELECT json_agg(t) FROM tools t WHERE t.organization_id = a.organization_id AND t.name = ANY (a.tool_names)), '[]'::json) AS tools_json,
     coalesce((SELECT array_agg(s.key ORDER BY s.key) FROM agent_secrets s WHERE s.agent_id = a.id), '{}') AS secret_keys
   FROM agents a WHERE a.id = $1 AND a.organization_id = $2`,
);

/**
 * Agents are configuration rather than run history: the gateway writes them here directly and
 * synchronously (so create-then-get never misses), and run events refer to them by id.
 */
export class AgentStore {
  private readonly agents: Repository<AgentEntity>;
  private readonly blocks: Repository<BlockEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.agents = dataSource.getRepository(AgentEntity);
    this.blocks = dataSource.getRepository(BlockEntity);
  }

  /** `within` runs in the creating transaction (an import seeds the agent's history there). */
  async create(input: NewAgent, within?: (manager: EntityManager, agent: AgentSnapshot) => Promise<void>): Promise<AgentSnapshot> {
    const now = new Date();
    const id = newId('agent');
    return this.dataSource.transaction(async (manager) => {
      const agent = manager.create(AgentEntity, {
        id,
        organizationId: input.organizationId,
        name: input.name,
        description: input.description,
        system: input.system,
        agentType: input.agentType,
        model: input.model,
        embedding: input.embedding,
        llmConfig: input.llmConfig,
        tags: input.tags,
        metadata: input.metadata,
        toolRules: input.toolRules,
        toolNames: input.toolNames,
        extra: input.extra,
        lastRunCompletion: null,
        lastRunDurationMs: null,
        lastStopReason: null,
        createdAt: now,
        updatedAt: now,
      });
      await manager.save(AgentEntity, agent);
      const ownBlocks = input.memoryBlocks.map((block) =>
        manager.create(BlockEntity, {
          id: newId('block'),
          organizationId: input.organizationId,
          label: block.label,
          value: block.value,
          charLimit: block.limit ?? DEFAULT_BLOCK_CHAR_LIMIT,
          description: block.description ?? null,
          readOnly: block.read_only ?? false,
          metadata: block.metadata ?? null,
          createdAt: now,
          updatedAt: now,
        }),
      );
      if (ownBlocks.length) await manager.save(BlockEntity, ownBlocks);
      agent.blocks = await attachBlocks(manager, input.organizationId, id, [...(input.blockIds ?? []), ...ownBlocks.map((block) => block.id)]);
      if (input.secrets) await replaceSecrets(manager, id, input.secrets);
      agent.customTools = (await customToolsOfAgents(manager, [agent])).get(id) ?? [];
      agent.secretKeys = Object.keys(input.secrets ?? {}).sort();
      if (within) await within(manager, agent);
      return agent;
    });
  }

  /** The agent with its blocks in prompt order, in one statement (every step of every run loads it). */
  async get(organizationId: string, id: string): Promise<AgentSnapshot | null> {
    const rows: (AgentRow & { blocks_json: BlockJson[]; archival_count: number; tools_json: Parameters<typeof toolFromRow>[0][]; secret_keys: string[] })[] = await runNamed(
      this.dataSource,
      AGENT_SNAPSHOT,
      [id, organizationId],
    );
    const row = rows[0];
    if (!row) return null;
    const agent = this.dataSource.manager.create(AgentEntity, {
      id: row.id,
      organizationId: row.organization_id,
      name: row.name,
      description: row.description,
      system: row.system,
      agentType: row.agent_type,
      model: row.model,
      embedding: row.embedding,
      llmConfig: row.llm_config,
      tags: row.tags,
      metadata: row.metadata,
      toolRules: row.tool_rules,
      toolNames: row.tool_names,
      extra: row.extra,
      lastRunCompletion: row.last_run_completion,
      lastRunDurationMs: row.last_run_duration_ms,
      lastStopReason: row.last_stop_reason,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
    // Not a column: TypeORM's create() leaves it out.
    agent.blocks = row.blocks_json.map((block) =>
      blockFromRow(this.dataSource.manager, { ...block, created_at: new Date(block.created_at), updated_at: new Date(block.updated_at) }),
    );
    agent.archivalMemoryCount = row.archival_count;
    agent.customTools = row.tools_json.map(toolFromRow);
    agent.secretKeys = row.secret_keys;
    return agent;
  }

  private async withBlocks(agents: AgentEntity[]): Promise<AgentEntity[]> {
    const ids = agents.map((agent) => agent.id);
    const [blocks, tools, secrets] = await Promise.all([
      blocksOfAgents(this.dataSource.manager, ids),
      customToolsOfAgents(this.dataSource.manager, agents),
      secretKeysOfAgents(this.dataSource.manager, ids),
    ]);
    for (const agent of agents) {
      agent.blocks = blocks.get(agent.id) ?? [];
      agent.customTools = tools.get(agent.id) ?? [];
      agent.secretKeys = secrets.get(agent.id) ?? [];
    }
    return agents;
  }

  /**
   * One plain statement: every run's create asks it, and TypeORM's `exists` builds its query anew
   * each time (a twentieth of the gateway's CPU in the benchmark's profile).
   */
  async exists(organizationId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM agents WHERE id = $1 AND organization_id = $2', [id, organizationId]);
    return rows.length > 0;
  }

  async list(organizationId: string, filter: AgentListFilter): Promise<AgentSnapshot[]> {
    const query = this.agents
      .createQueryBuilder('agent')
      .where('agent.organizationId = :organizationId', { organizationId });
    if (filter.name) query.andWhere('agent.name = :name', { name: filter.name });
    if (filter.tags?.length) {
      query.andWhere(filter.matchAllTags ? 'agent.tags @> :tags' : 'agent.tags && :tags', { tags: filter.tags });
    }
    if (filter.blockId) {
      query.andWhere('EXISTS (SELECT 1 FROM agent_blocks ab WHERE ab.agent_id = agent.id AND ab.block_id = :blockId)', { blockId: filter.blockId });
    }
    const sort: KeysetSort = {
      columns: ['agent.created_at', 'agent.id'],
      keyOf: (cursor, scope) => `SELECT created_at, id FROM agents WHERE id = ${cursor} AND organization_id = ${scope}`,
      scope: organizationId,
    };
    const bound: Record<string, unknown> = {};
    const bind: Bind = (value) => {
      const name = `key${Object.keys(bound).length}`;
      bound[name] = value;
      return `:${name}`;
    };
    for (const condition of await keysetConditions(this.dataSource, filter, sort, bind)) query.andWhere(condition, bound);
    const ids = await query.clone().select('agent.id', 'id').addSelect('agent.created_at', 'created_at')
      .orderBy(Object.fromEntries(sort.columns.map((column) => [column, filter.order === 'asc' ? 'ASC' : 'DESC'] as const))).limit(filter.limit).getRawMany<{ id: string }>();
    if (ids.length === 0) return [];
    const agents = await this.withBlocks(await this.agents.find({ where: ids.map(({ id }) => ({ id, organizationId })) }));
    const byId = new Map(agents.map((agent) => [agent.id, agent]));
    return ids.map(({ id }) => byId.get(id)).filter((agent): agent is AgentEntity => agent !== undefined);
  }

  async update(organizationId: string, id: string, changes: AgentChanges): Promise<AgentSnapshot | null> {
    const agent = await this.agents.findOne({ where: { id, organizationId } });
    if (!agent) return null;
    const { llmConfig, blockIds, secrets, ...plain } = changes;
    for (const key of Object.keys(plain) as (keyof typeof plain)[]) {
      if (plain[key] !== undefined) Object.assign(agent, { [key]: plain[key] });
    }
    if (llmConfig) agent.llmConfig = { ...agent.llmConfig, ...llmConfig };
    agent.updatedAt = new Date();
    await this.dataSource.transaction(async (manager) => {
      await manager.save(AgentEntity, agent);
      if (secrets !== undefined) await replaceSecrets(manager, id, secrets);
      if (blockIds === undefined) return;
      await manager.query(`DELETE FROM agent_blocks WHERE agent_id = $1 AND NOT (block_id = ANY ($2))`, [id, blockIds]);
      await attachBlocks(manager, organizationId, id, blockIds);
    });
    return this.get(organizationId, id);
  }

  /**
   * Changes a memory block, for every agent it is attached to. A new label must be free on all of
   * those agents (BlockLabelTaken otherwise). The block is locked and only the fields given change,
   * so an edit a step commits meanwhile is kept; a new value is an edit like a tool's (the ledger's
   * rethink), checked against the limit the block has after this change (BlockValueTooLong).
   */
  async updateBlock(current: BlockSnapshot, changes: BlockChanges): Promise<BlockSnapshot> {
    return this.dataSource.transaction(async (manager) => {
      const [locked]: BlockRow[] = await manager.query(`SELECT * FROM blocks WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [current.id, current.organizationId]);
      if (!locked) throw new UnknownBlocks([current.id]);
      const label = changes.label ?? locked.label;
      if (label !== locked.label) {
        const taken: unknown[] = await manager.query(
          `SELECT 1 FROM agent_blocks mine JOIN agent_blocks other ON other.agent_id = mine.agent_id
           WHERE mine.block_id = $1 AND other.block_label = $2 AND other.block_id <> $1 LIMIT 1`,
          [locked.id, label],
        );
        if (taken.length) throw new BlockLabelTaken(label);
        await guardingLabels(() => manager.query(`UPDATE agent_blocks SET block_label = $2 WHERE block_id = $1`, [locked.id, label]));
      }
      const limit = changes.limit ?? locked.char_limit;
      const value = changes.value === undefined ? locked.value : storableText(changes.value);
      if (value.length > limit) throw new BlockValueTooLong(value.length, limit);
      await manager.query(
        `UPDATE blocks SET label = $2, char_limit = $3, description = $4, read_only = $5, metadata = $6, tags = $7, updated_at = now() WHERE id = $1`,
        [
          locked.id,
          label,
          limit,
          changes.description === undefined ? locked.description : storableText(changes.description),
          changes.readOnly ?? locked.read_only,
          changes.metadata === undefined ? locked.metadata : changes.metadata === null ? null : storableJson(changes.metadata),
          (changes.tags ?? locked.tags).map(storableText),
        ],
      );
      if (value !== locked.value) {
        const writer: EditWriter = { source: 'api', organizationId: locked.organization_id, agentId: null };
        const [verdict] = await BlockEditLedger.commit(manager, writer, [
          { id: BlockEditLedger.newEditId(), label, blockId: locked.id, operation: { kind: 'rethink', newValue: value } },
        ]);
        if (!verdict.applied) throw new BlockValueTooLong(value.length, limit);
      }
      const [row]: BlockRow[] = await manager.query(`SELECT * FROM blocks WHERE id = $1`, [locked.id]);
      return blockFromRow(manager, row);
    });
  }

  /** Shares an existing block with the agent (a no-op when it is already attached); null when there is no such agent. */
  /** `maxBlocks`: the attach fails (TooManyBlocks, nothing changed) if the agent would have more. */
  async attachBlock(organizationId: string, agentId: string, blockId: string, maxBlocks = Number.POSITIVE_INFINITY): Promise<AgentSnapshot | null> {
    if (!(await this.exists(organizationId, agentId))) return null;
    await this.dataSource.transaction(async (manager) => {
      await attachBlocks(manager, organizationId, agentId, [blockId]);
      const [{ n }]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM agent_blocks WHERE agent_id = $1`, [agentId]);
      if (n > maxBlocks) throw new TooManyBlocks(maxBlocks);
    });
    return this.get(organizationId, agentId);
  }

  /**
   * Takes a block out of the agent's memory. The block itself stays (other agents may share it,
   * and it can be attached again by id). Null when there is no such agent; UnknownBlocks when the
   * block is not attached to it.
   */
  async detachBlock(organizationId: string, agentId: string, blockId: string): Promise<AgentSnapshot | null> {
    if (!(await this.exists(organizationId, agentId))) return null;
    const [{ detached }]: { detached: boolean }[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM agent_blocks WHERE agent_id = $1 AND block_id = $2 RETURNING block_id) SELECT count(*) > 0 AS detached FROM gone`,
      [agentId, blockId],
    );
    if (!detached) throw new UnknownBlocks([blockId], ` on agent ${agentId}`);
    return this.get(organizationId, agentId);
  }

  /**
   * Deletes the agent with the blocks made with an agent that only it had; blocks shared with
   * other agents stay theirs, and blocks made through the blocks API (`standalone`) stay even when
   * no agent has them any more. Locks go agent, then its blocks (in id order), then their
   * attachments, the order attaches, block edits and block deletions take them in: an attach of one
   * of the blocks either commits first (and the block stays) or waits and finds it gone.
   */
  async delete(organizationId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [agent]: unknown[] = await manager.query(`SELECT id FROM agents WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [id, organizationId]);
      if (!agent) return false;
      const locked: { id: string }[] = await manager.query(
        `SELECT b.id FROM blocks b WHERE b.id IN (SELECT block_id FROM agent_blocks WHERE agent_id = $1) ORDER BY b.id FOR UPDATE`,
        [id],
      );
      await manager.delete(AgentEntity, { id, organizationId });
      const blockIds = locked.map((row) => row.id);
      if (blockIds.length) {
        await manager.query(
          `DELETE FROM blocks b WHERE b.id = ANY ($1) AND NOT b.standalone AND NOT EXISTS (SELECT 1 FROM agent_blocks ab WHERE ab.block_id = b.id)`,
          [blockIds],
        );
      }
      return true;
    });
  }

  /**
   * Commits memory edits made outside a run (a direct tool run), all in one transaction, each
   * applied to the block as it is now. Answers the edits that no longer apply, with their errors.
   */
  async editBlocks(organizationId: string, agentId: string, edits: readonly MemoryEdit[]): Promise<string[]> {
    if (edits.length === 0) return [];
    const writer: EditWriter = { source: 'tool_run', organizationId, agentId };
    const verdicts = await this.dataSource.transaction((manager) => BlockEditLedger.commit(manager, writer, editsOfEvent(edits, BlockEditLedger.newEditId())));
    return verdicts.flatMap((verdict) => (verdict.applied ? [] : [verdict.error]));
  }

}


interface AgentRow {
  id: string;
  organization_id: string;
  name: string;
  description: string | null;
  system: string;
  agent_type: string;
  model: string | null;
  embedding: string | null;
  llm_config: Record<string, unknown>;
  tags: string[];
  metadata: Record<string, unknown> | null;
  tool_rules: unknown[];
  tool_names: string[];
  extra: Record<string, unknown>;
  last_run_completion: Date | null;
  last_run_duration_ms: string | null;
  last_stop_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A block row as json_agg renders it: timestamps as text. */
type BlockJson = Omit<BlockRow, 'created_at' | 'updated_at'> & { created_at: string; updated_at: string };
