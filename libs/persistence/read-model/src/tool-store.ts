import type { DataSource, EntityManager } from 'typeorm';
import { BASE_TOOLS, newId } from '@lrs/contracts';
import type { ToolSnapshot } from './agent-snapshot';
import { baseToolSnapshot, SECRET_MASK } from './agent-views';
import { escapeLike } from './message-queries';
import { keysetOrder, numberedParams, UnknownCursor, type PageQuery } from './pagination';
import { storableJson, storableText } from './pg-values';

/**
 * Why a tool answers an error when called, if it does: imported tools that cannot run here keep
 * the reason in their metadata (`unavailable_reason`).
 */
export function unavailableReason(tool: Pick<ToolSnapshot, 'metadata'>): string | null {
  const reason = tool.metadata?.unavailable_reason;
  return typeof reason === 'string' ? reason : null;
}

/** A custom tool as created: what `/v1/tools` validated and the schema it settled on. */
export interface NewTool {
  organizationId: string;
  name: string;
  description: string;
  sourceType: string;
  sourceCode: string;
  jsonSchema: ToolSnapshot['jsonSchema'];
  argsJsonSchema: Record<string, unknown> | null;
  tags: string[];
  returnCharLimit: number;
  defaultRequiresApproval: boolean | null;
  pipRequirements: ToolSnapshot['pipRequirements'];
  npmRequirements: ToolSnapshot['npmRequirements'];
  metadata: Record<string, unknown> | null;
  toolType?: string;
}

export type ToolChanges = Partial<Omit<NewTool, 'organizationId'>>;

/** Letta's tool list filters. */
export interface ToolListFilter extends PageQuery {
  name?: string;
  names?: string[];
  ids?: string[];
  /** Case-insensitive substring of the name. */
  search?: string;
  toolTypes?: string[];
  excludeToolTypes?: string[];
  tags?: string[];
}

/** Another tool of the organization already has this name (names are how agents and rules name tools). */
export class ToolNameTaken extends Error {
  constructor(readonly toolName: string) {
    super(`a tool named '${toolName}' already exists`);
  }
}

interface ToolRow {
  id: string;
  organization_id: string | null;
  name: string;
  description: string;
  tool_type: string;
  source_type: string;
  source_code: string | null;
  json_schema: ToolSnapshot['jsonSchema'];
  args_json_schema: Record<string, unknown> | null;
  tags: string[];
  return_char_limit: number;
  default_requires_approval: boolean | null;
  pip_requirements: ToolSnapshot['pipRequirements'];
  npm_requirements: ToolSnapshot['npmRequirements'];
  metadata: Record<string, unknown> | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export function toolFromRow(row: ToolRow): ToolSnapshot {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    description: row.description,
    toolType: row.tool_type,
    sourceType: row.source_type,
    sourceCode: row.source_code,
    jsonSchema: row.json_schema,
    argsJsonSchema: row.args_json_schema,
    tags: row.tags,
    returnCharLimit: row.return_char_limit,
    defaultRequiresApproval: row.default_requires_approval,
    pipRequirements: row.pip_requirements,
    npmRequirements: row.npm_requirements,
    metadata: row.metadata,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The custom tools each agent names, for a page of agents (one statement). */
export async function customToolsOfAgents(manager: EntityManager, agents: { id: string; organizationId: string; toolNames: string[] }[]): Promise<Map<string, ToolSnapshot[]>> {
  const byAgent = new Map<string, ToolSnapshot[]>(agents.map((agent) => [agent.id, []]));
  const wanted = agents.filter((agent) => agent.toolNames.length > 0);
  if (!wanted.length) return byAgent;
  const rows: (ToolRow & { agent_id: string })[] = await manager.query(
    `SELECT a.id AS agent_id, t.* FROM agents a JOIN tools t ON t.organization_id = a.organization_id AND t.name = ANY (a.tool_names) WHERE a.id = ANY ($1)`,
    [wanted.map((agent) => agent.id)],
  );
  for (const row of rows) byAgent.get(row.agent_id)?.push(toolFromRow(row));
  return byAgent;
}

/** The names of each agent's secrets. */
export async function secretKeysOfAgents(manager: EntityManager, agentIds: string[]): Promise<Map<string, string[]>> {
  const byAgent = new Map<string, string[]>(agentIds.map((id) => [id, []]));
  if (!agentIds.length) return byAgent;
  const rows: { agent_id: string; key: string }[] = await manager.query(`SELECT agent_id, key FROM agent_secrets WHERE agent_id = ANY ($1) ORDER BY key`, [agentIds]);
  for (const row of rows) byAgent.get(row.agent_id)?.push(row.key);
  return byAgent;
}

/** The base tools as rows of the same shape, so one query lists, filters and pages both. */
function baseToolsTable(bind: (value: unknown) => string): string {
  const rows = BASE_TOOLS.map(baseToolSnapshot);
  return `SELECT * FROM jsonb_to_recordset(${bind(storableJson(rows.map((tool) => ({ ...toolRowOf(tool), created_at: tool.createdAt.toISOString() }))))}::jsonb) AS b(
    id text, organization_id text, name text, description text, tool_type text, source_type text, source_code text, json_schema jsonb, args_json_schema jsonb,
    tags text[], return_char_limit integer, default_requires_approval boolean, pip_requirements jsonb, npm_requirements jsonb, metadata jsonb, created_at timestamptz, updated_at timestamptz)`;
}

function toolRowOf(tool: ToolSnapshot): Omit<ToolRow, 'created_at' | 'updated_at'> & { updated_at: string } {
  return {
    id: tool.id,
    organization_id: tool.organizationId,
    name: tool.name,
    description: tool.description,
    tool_type: tool.toolType,
    source_type: tool.sourceType,
    source_code: tool.sourceCode,
    json_schema: tool.jsonSchema,
    args_json_schema: tool.argsJsonSchema,
    tags: tool.tags,
    return_char_limit: tool.returnCharLimit,
    default_requires_approval: tool.defaultRequiresApproval,
    pip_requirements: tool.pipRequirements,
    npm_requirements: tool.npmRequirements,
    metadata: tool.metadata,
    updated_at: tool.updatedAt.toISOString(),
  };
}

/**
 * An organization's tools (Letta's `/v1/tools`): its custom tools from source, and the server's
 * base tools listed with them. Agents name their tools, so a custom tool's name is unique in its
 * organization; renaming a tool renames it on every agent that has it, deleting it detaches it
 * from every agent, both in the tool's own transaction.
 */
export class ToolStore {
  constructor(private readonly dataSource: DataSource) {}

  async create(input: NewTool): Promise<ToolSnapshot> {
    return this.guardingName(input.name, async () => {
      const [row]: ToolRow[] = await this.dataSource.query(
        `INSERT INTO tools (id, organization_id, name, description, tool_type, source_type, source_code, json_schema, args_json_schema, tags, return_char_limit,
           default_requires_approval, pip_requirements, npm_requirements, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
        [newId('tool'), input.organizationId, ...this.columnsOf(input)],
      );
      return toolFromRow(row);
    });
  }

  /** A custom tool, or a base tool by its fixed id. */
  async get(organizationId: string, id: string): Promise<ToolSnapshot | null> {
    const base = BASE_TOOLS.find((tool) => tool.id === id);
    if (base) return baseToolSnapshot(base);
    const [row]: ToolRow[] = await this.dataSource.query(`SELECT * FROM tools WHERE id = $1 AND organization_id = $2`, [id, organizationId]);
    return row ? toolFromRow(row) : null;
  }

  async getByName(organizationId: string, name: string): Promise<ToolSnapshot | null> {
    const base = BASE_TOOLS.find((tool) => tool.name === name);
    if (base) return baseToolSnapshot(base);
    const [row]: ToolRow[] = await this.dataSource.query(`SELECT * FROM tools WHERE name = $1 AND organization_id = $2`, [name, organizationId]);
    return row ? toolFromRow(row) : null;
  }

  /** The organization's custom tools of these names (base tools are not rows). */
  async byNames(organizationId: string, names: readonly string[]): Promise<ToolSnapshot[]> {
    if (!names.length) return [];
    const rows: ToolRow[] = await this.dataSource.query(`SELECT * FROM tools WHERE organization_id = $1 AND name = ANY ($2)`, [organizationId, names]);
    return rows.map(toolFromRow);
  }

  async list(organizationId: string, filter: ToolListFilter): Promise<ToolSnapshot[]> {
    const params: unknown[] = [];
    const bind = numberedParams(params);
    const scope = bind(organizationId);
    const all = `(${baseToolsTable(bind)} UNION ALL SELECT * FROM tools WHERE organization_id = ${scope})`;
    const conditions: string[] = [];
    if (filter.name !== undefined) conditions.push(`t.name = ${bind(filter.name)}`);
    if (filter.names?.length) conditions.push(`t.name = ANY (${bind(filter.names)})`);
    if (filter.ids?.length) conditions.push(`t.id = ANY (${bind(filter.ids)})`);
    if (filter.search) conditions.push(`t.name ILIKE ${bind(`%${escapeLike(filter.search)}%`)}`);
    if (filter.toolTypes?.length) conditions.push(`t.tool_type = ANY (${bind(filter.toolTypes)})`);
    if (filter.excludeToolTypes?.length) conditions.push(`NOT (t.tool_type = ANY (${bind(filter.excludeToolTypes)}))`);
    if (filter.tags?.length) conditions.push(`t.tags && ${bind(filter.tags)}`);
    // Keyset paging over both parts: base tools sort first (created at the epoch), custom tools by (created_at, id).
    for (const [cursor, forward] of [[filter.after, true], [filter.before, false]] as const) {
      if (!cursor) continue;
      const known = BASE_TOOLS.some((tool) => tool.id === cursor) || (await this.dataSource.query(`SELECT 1 FROM tools WHERE id = $1 AND organization_id = $2`, [cursor, organizationId])).length > 0;
      if (!known) throw new UnknownCursor(cursor);
      const ascending = filter.order === 'asc' ? forward : !forward;
      conditions.push(`(t.created_at, t.id) ${ascending ? '>' : '<'} (SELECT k.created_at, k.id FROM ${all} k WHERE k.id = ${bind(cursor)})`);
    }
    const rows: ToolRow[] = await this.dataSource.query(
      `SELECT * FROM ${all} t ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${keysetOrder({ columns: ['t.created_at', 't.id'] }, filter.order)} LIMIT ${bind(filter.limit)}`,
      params,
    );
    return rows.map(toolFromRow);
  }

  /** The organization's own tools (custom and MCP), for its bound. */
  async customToolCount(organizationId: string): Promise<number> {
    const [row]: { count: number }[] = await this.dataSource.query(`SELECT count(*)::int AS count FROM tools WHERE organization_id = $1`, [organizationId]);
    return row.count;
  }

  /** Changes a custom tool; a new name is the tool's name on every agent that has it. */
  async update(organizationId: string, id: string, changes: ToolChanges): Promise<ToolSnapshot | null> {
    return this.guardingName(changes.name ?? '', () =>
      this.dataSource.transaction(async (manager) => {
        const [current]: ToolRow[] = await manager.query(`SELECT * FROM tools WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [id, organizationId]);
        if (!current) return null;
        const next: NewTool = { ...this.inputOf(toolFromRow(current)), ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) };
        const [row]: ToolRow[] = await manager.query(
          // In a CTE: an UPDATE's RETURNING rows come back through query() only from a SELECT.
          `WITH updated AS (
             UPDATE tools SET name = $3, description = $4, tool_type = $5, source_type = $6, source_code = $7, json_schema = $8, args_json_schema = $9, tags = $10,
               return_char_limit = $11, default_requires_approval = $12, pip_requirements = $13, npm_requirements = $14, metadata = $15, updated_at = now()
             WHERE id = $1 AND organization_id = $2 RETURNING *)
           SELECT * FROM updated`,
          [id, organizationId, ...this.columnsOf(next)],
        );
        if (row.name !== current.name) {
          await manager.query(`UPDATE agents SET tool_names = array_replace(tool_names, $2, $3) WHERE organization_id = $1 AND $2 = ANY (tool_names)`, [organizationId, current.name, row.name]);
        }
        return toolFromRow(row);
      }),
    );
  }

  /** Deletes a custom tool and detaches it from every agent. False: no such tool. */
  async delete(organizationId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { name: string }[] = await manager.query(`WITH deleted AS (DELETE FROM tools WHERE id = $1 AND organization_id = $2 RETURNING name) SELECT name FROM deleted`, [id, organizationId]);
      if (!rows.length) return false;
      await manager.query(`UPDATE agents SET tool_names = array_remove(tool_names, $2) WHERE organization_id = $1 AND $2 = ANY (tool_names)`, [organizationId, rows[0].name]);
      return true;
    });
  }

  /** Letta's upsert: the tool of this name changes, or a new one is made. */
  async upsert(input: NewTool): Promise<{ tool: ToolSnapshot; created: boolean }> {
    const existing = await this.dataSource.query(`SELECT id FROM tools WHERE organization_id = $1 AND name = $2`, [input.organizationId, input.name]);
    if (existing.length) return { tool: (await this.update(input.organizationId, existing[0].id, input))!, created: false };
    try {
      return { tool: await this.create(input), created: true };
    } catch (error) {
      // Another upsert of the same name created it first: change that one.
      if (!(error instanceof ToolNameTaken)) throw error;
      return this.upsert(input);
    }
  }

  private columnsOf(input: NewTool): unknown[] {
    return [
      storableText(input.name),
      storableText(input.description),
      input.toolType ?? 'custom',
      input.sourceType,
      storableText(input.sourceCode),
      storableJson(input.jsonSchema),
      input.argsJsonSchema === null ? null : storableJson(input.argsJsonSchema),
      input.tags.map((tag) => storableText(tag)),
      input.returnCharLimit,
      input.defaultRequiresApproval,
      input.pipRequirements === null ? null : storableJson(input.pipRequirements),
      input.npmRequirements === null ? null : storableJson(input.npmRequirements),
      input.metadata === null ? null : storableJson(input.metadata),
    ];
  }

  private inputOf(tool: ToolSnapshot): NewTool {
    const { id: _id, createdAt: _created, updatedAt: _updated, organizationId, sourceCode, ...rest } = tool;
    return { ...rest, organizationId: organizationId ?? '', sourceCode: sourceCode ?? '' };
  }

  private async guardingName<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if ((error as { code?: string }).code === '23505' && /tools_organization_id_name_key/.test(String((error as { constraint?: string }).constraint ?? error))) throw new ToolNameTaken(name);
      throw error;
    }
  }
}

/**
 * Sets an agent's secrets, the environment of its tools: the whole set is replaced (Letta's
 * `secrets` on create and modify). A value equal to the mask the API shows keeps the stored one,
 * so a client that writes back an agent it read does not erase its secrets.
 */
export async function replaceSecrets(manager: EntityManager, agentId: string, secrets: Record<string, string>): Promise<void> {
  const keep = Object.entries(secrets).filter(([, value]) => value === SECRET_MASK).map(([key]) => key);
  const set = Object.entries(secrets).filter(([, value]) => value !== SECRET_MASK);
  await manager.query(`DELETE FROM agent_secrets WHERE agent_id = $1 AND NOT (key = ANY ($2))`, [agentId, [...keep, ...set.map(([key]) => key)]]);
  if (!set.length) return;
  await manager.query(
    `INSERT INTO agent_secrets (agent_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS s (k, v)
     ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
    [agentId, set.map(([key]) => storableText(key)), set.map(([, value]) => storableText(value))],
  );
}

/** Agents' secret values: read only to run a tool (the API shows the keys). */
export class AgentSecretStore {
  constructor(private readonly dataSource: DataSource) {}

  async values(agentId: string): Promise<Record<string, string>> {
    const rows: { key: string; value: string }[] = await this.dataSource.query(`SELECT key, value FROM agent_secrets WHERE agent_id = $1`, [agentId]);
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  }
}
