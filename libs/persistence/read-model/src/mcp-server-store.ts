import type { DataSource, EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import type { ToolSnapshot } from './agent-snapshot';
import { DEFAULT_RETURN_CHAR_LIMIT } from './agent-views';
import { storableJson, storableText } from './pg-values';
import { toolFromRow } from './tool-store';

export type McpServerKind = 'streamable_http' | 'sse' | 'stdio';

/** A registered MCP server, secrets included: only the llm-worker (to connect) and the masking views read them. */
export interface McpServerSnapshot {
  id: string;
  organizationId: string;
  serverName: string;
  serverType: McpServerKind;
  serverUrl: string | null;
  authHeader: string | null;
  authToken: string | null;
  customHeaders: Record<string, string> | null;
  command: string | null;
  args: string[] | null;
  env: Record<string, string> | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewMcpServer = Omit<McpServerSnapshot, 'id' | 'createdAt' | 'updatedAt'>;
export type McpServerChanges = Partial<Omit<NewMcpServer, 'organizationId'>>;

/** A tool a server lists, as stored for it. */
export interface McpToolEntry {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** What a refresh did to the server's tool rows. */
export interface McpToolSync {
  added: string[];
  updated: string[];
  deleted: string[];
  /** Tools not stored, and why (another tool of the organization has the name, the organization's bound). */
  skipped: { name: string; reason: string }[];
}

export class McpServerNameTaken extends Error {
  constructor(readonly serverName: string) {
    super(`an MCP server named '${serverName}' already exists`);
  }
}

/** Letta's id prefix for MCP servers. */
export const MCP_SERVER_ID_PREFIX = 'mcp_server';

export function newMcpServerId(): string {
  return `${MCP_SERVER_ID_PREFIX}-${randomUUID()}`;
}

interface McpServerRow {
  id: string;
  organization_id: string;
  server_name: string;
  server_type: McpServerKind;
  server_url: string | null;
  auth_header: string | null;
  auth_token: string | null;
  custom_headers: Record<string, string> | null;
  command: string | null;
  args: string[] | null;
  env: Record<string, string> | null;
  created_at: Date | string;
  updated_at: Date | string;
}

function serverFromRow(row: McpServerRow): McpServerSnapshot {
  return {
    id: row.id,
    organizationId: row.organization_id,
    serverName: row.server_name,
    serverType: row.server_type,
    serverUrl: row.server_url,
    authHeader: row.auth_header,
    authToken: row.auth_token,
    customHeaders: row.custom_headers,
    command: row.command,
    args: row.args,
    env: row.env,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The metadata key Letta's agent files use for an MCP tool's server (`metadata_.mcp.server_name`). */
export function mcpServerNameOf(tool: Pick<ToolSnapshot, 'metadata' | 'tags'>): string | null {
  const mcp = tool.metadata?.mcp;
  if (typeof mcp === 'object' && mcp !== null && typeof (mcp as { server_name?: unknown }).server_name === 'string') return (mcp as { server_name: string }).server_name;
  // Letta also tags an MCP tool `mcp:<server name>`.
  const tag = tool.tags.find((item) => item.startsWith('mcp:'));
  return tag ? tag.slice(4) : null;
}

export function mcpServerIdOf(tool: Pick<ToolSnapshot, 'metadata'>): string | null {
  const mcp = tool.metadata?.mcp;
  return typeof mcp === 'object' && mcp !== null && typeof (mcp as { server_id?: unknown }).server_id === 'string' ? (mcp as { server_id: string }).server_id : null;
}

const SERVER_TOOLS = `tool_type = 'external_mcp' AND organization_id = $1 AND metadata -> 'mcp' ->> 'server_id' = $2`;

/**
 * An organization's MCP servers and their tools' rows. A server's tools are kept as rows of
 * `tools` so agents attach, list and name them like any other tool; a refresh makes the rows what
 * the server lists now (a tool gone from the server is deleted and so detached from its agents),
 * and deleting the server deletes them.
 */
export class McpServerStore {
  constructor(private readonly dataSource: DataSource) {}

  async create(input: NewMcpServer): Promise<McpServerSnapshot> {
    try {
      const [row]: McpServerRow[] = await this.dataSource.query(
        `INSERT INTO mcp_servers (id, organization_id, server_name, server_type, server_url, auth_header, auth_token, custom_headers, command, args, env)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
        [newMcpServerId(), input.organizationId, ...columnsOf(input)],
      );
      return serverFromRow(row);
    } catch (error) {
      throw nameTaken(error, input.serverName);
    }
  }

  async get(organizationId: string, id: string): Promise<McpServerSnapshot | null> {
    const [row]: McpServerRow[] = await this.dataSource.query(`SELECT * FROM mcp_servers WHERE id = $1 AND organization_id = $2`, [id, organizationId]);
    return row ? serverFromRow(row) : null;
  }

  async getByName(organizationId: string, serverName: string): Promise<McpServerSnapshot | null> {
    const [row]: McpServerRow[] = await this.dataSource.query(`SELECT * FROM mcp_servers WHERE server_name = $1 AND organization_id = $2`, [serverName, organizationId]);
    return row ? serverFromRow(row) : null;
  }

  async list(organizationId: string): Promise<McpServerSnapshot[]> {
    const rows: McpServerRow[] = await this.dataSource.query(`SELECT * FROM mcp_servers WHERE organization_id = $1 ORDER BY created_at, id`, [organizationId]);
    return rows.map(serverFromRow);
  }

  async count(organizationId: string): Promise<number> {
    const [row]: { count: number }[] = await this.dataSource.query(`SELECT count(*)::int AS count FROM mcp_servers WHERE organization_id = $1`, [organizationId]);
    return row.count;
  }

  /** Changes a server; a new name is also the server name its tools carry. */
  async update(organizationId: string, id: string, changes: McpServerChanges): Promise<McpServerSnapshot | null> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const [current]: McpServerRow[] = await manager.query(`SELECT * FROM mcp_servers WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [id, organizationId]);
        if (!current) return null;
        const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
        const next: NewMcpServer = { ...serverFromRow(current), ...defined };
        const [row]: McpServerRow[] = await manager.query(
          `WITH updated AS (
             UPDATE mcp_servers SET server_name = $3, server_type = $4, server_url = $5, auth_header = $6, auth_token = $7, custom_headers = $8, command = $9, args = $10, env = $11, updated_at = now()
             WHERE id = $1 AND organization_id = $2 RETURNING *)
           SELECT * FROM updated`,
          [id, organizationId, ...columnsOf(next)],
        );
        if (row.server_name !== current.server_name) {
          await manager.query(
            `UPDATE tools SET metadata = jsonb_set(metadata, '{mcp,server_name}', to_jsonb($3::text)), tags = array_replace(tags, 'mcp:' || $4, 'mcp:' || $3), updated_at = now() WHERE ${SERVER_TOOLS}`,
            [organizationId, id, row.server_name, current.server_name],
          );
        }
        return serverFromRow(row);
      });
    } catch (error) {
      throw nameTaken(error, changes.serverName ?? '');
    }
  }

  /** Deletes the server and its tools (detached from every agent). False: no such server. */
  async delete(organizationId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const deleted: { id: string }[] = await manager.query(`WITH deleted AS (DELETE FROM mcp_servers WHERE id = $1 AND organization_id = $2 RETURNING id) SELECT id FROM deleted`, [id, organizationId]);
      if (!deleted.length) return false;
      const tools: { name: string }[] = await manager.query(`WITH deleted AS (DELETE FROM tools WHERE ${SERVER_TOOLS} RETURNING name) SELECT name FROM deleted`, [organizationId, id]);
      await detach(manager, organizationId, tools.map((tool) => tool.name));
      return true;
    });
  }

  /** The server's tools, by name. */
  async tools(organizationId: string, serverId: string): Promise<ToolSnapshot[]> {
    const rows = await this.dataSource.query(`SELECT * FROM tools WHERE ${SERVER_TOOLS} ORDER BY name`, [organizationId, serverId]);
    return rows.map(toolFromRow);
  }

  async tool(organizationId: string, serverId: string, toolId: string): Promise<ToolSnapshot | null> {
    const [row] = await this.dataSource.query(`SELECT * FROM tools WHERE ${SERVER_TOOLS} AND id = $3`, [organizationId, serverId, toolId]);
    return row ? toolFromRow(row) : null;
  }

  /**
   * Makes the server's tool rows what it lists now. A name another tool of the organization has is
   * skipped (said in the answer), except a tool of this server's name that an agent file brought
   * before the server was registered: that one becomes the server's. `maxTools` bounds the
   * organization's tools as `/v1/tools` does.
   */
  async syncTools(server: McpServerSnapshot, listed: readonly McpToolEntry[], maxTools: number): Promise<McpToolSync | null> {
    const result: McpToolSync = { added: [], updated: [], deleted: [], skipped: [] };
    return this.dataSource.transaction(async (manager) => {
      // One refresh of a server at a time; a server deleted meanwhile has nothing to sync.
      const [locked]: McpServerRow[] = await manager.query(`SELECT * FROM mcp_servers WHERE id = $1 AND organization_id = $2 FOR UPDATE`, [server.id, server.organizationId]);
      if (!locked) return null;
      const current = serverFromRow(locked);
      const own: { id: string; name: string }[] = await manager.query(`SELECT id, name FROM tools WHERE ${SERVER_TOOLS}`, [current.organizationId, current.id]);
      const ownByName = new Map(own.map((row) => [row.name, row.id]));
      const listedNames = new Set<string>();
      const [{ count }]: { count: number }[] = await manager.query(`SELECT count(*)::int AS count FROM tools WHERE organization_id = $1`, [current.organizationId]);
      let room = maxTools - count;
      for (const tool of listed) {
        if (listedNames.has(tool.name)) continue;
        listedNames.add(tool.name);
        const columns = toolColumnsOf(current, tool);
        const ownId = ownByName.get(tool.name);
        if (ownId) {
          await manager.query(`UPDATE tools SET description = $2, json_schema = $3, tags = $4, metadata = $5, updated_at = now() WHERE id = $1`, [ownId, columns.description, columns.jsonSchema, columns.tags, columns.metadata]);
          result.updated.push(tool.name);
          continue;
        }
        // A server id of another Letta server (an agent file's) is no server here: such a tool waits for its server's name.
        const [other]: { id: string; tool_type: string; metadata: Record<string, unknown> | null; tags: string[]; registered: boolean }[] = await manager.query(
          `SELECT t.id, t.tool_type, t.metadata, t.tags, EXISTS (SELECT 1 FROM mcp_servers s WHERE s.organization_id = t.organization_id AND s.id = t.metadata -> 'mcp' ->> 'server_id') AS registered
           FROM tools t WHERE t.organization_id = $1 AND t.name = $2`,
          [current.organizationId, tool.name],
        );
        if (other) {
          const waiting = other.tool_type === 'external_mcp' && !other.registered && mcpServerNameOf({ metadata: other.metadata, tags: other.tags }) === current.serverName;
          if (!waiting) {
            result.skipped.push({ name: tool.name, reason: `another tool of the organization is named '${tool.name}'` });
            continue;
          }
          await manager.query(`UPDATE tools SET description = $2, json_schema = $3, tags = $4, metadata = $5, source_code = '', updated_at = now() WHERE id = $1`, [
            other.id,
            columns.description,
            columns.jsonSchema,
            columns.tags,
            columns.metadata,
          ]);
          result.updated.push(tool.name);
          continue;
        }
        if (room <= 0) {
          result.skipped.push({ name: tool.name, reason: `the organization has ${maxTools} tools, the most this server allows (MAX_TOOLS_PER_ORGANIZATION)` });
          continue;
        }
        const inserted: { id: string }[] = await manager.query(
          `INSERT INTO tools (id, organization_id, name, description, tool_type, source_type, source_code, json_schema, args_json_schema, tags, return_char_limit, default_requires_approval, pip_requirements, npm_requirements, metadata)
           VALUES ($1, $2, $3, $4, 'external_mcp', 'python', '', $5, NULL, $6, $7, NULL, NULL, NULL, $8)
           ON CONFLICT (organization_id, name) DO NOTHING RETURNING id`,
          [`tool-${randomUUID()}`, current.organizationId, storableText(tool.name), columns.description, columns.jsonSchema, columns.tags, DEFAULT_RETURN_CHAR_LIMIT, columns.metadata],
        );
        if (!inserted.length) {
          result.skipped.push({ name: tool.name, reason: `another tool of the organization is named '${tool.name}'` });
          continue;
        }
        room--;
        result.added.push(tool.name);
      }
      const gone = own.filter((row) => !listedNames.has(row.name));
      if (gone.length) {
        await manager.query(`DELETE FROM tools WHERE id = ANY ($1)`, [gone.map((row) => row.id)]);
        await detach(manager, current.organizationId, gone.map((row) => row.name));
        result.deleted.push(...gone.map((row) => row.name));
      }
      return result;
    });
  }
}

/** Deleted tools leave every agent of the organization that named them. */
async function detach(manager: EntityManager, organizationId: string, names: string[]): Promise<void> {
  if (!names.length) return;
  await manager.query(
    `UPDATE agents SET tool_names = ARRAY(SELECT name FROM unnest(tool_names) AS name WHERE NOT (name = ANY ($2))) WHERE organization_id = $1 AND tool_names && $2::text[]`,
    [organizationId, names],
  );
}

function toolColumnsOf(server: McpServerSnapshot, tool: McpToolEntry) {
  // The schema's own `$schema` is no argument: models are given the object schema alone.
  const { $schema: _schema, ...parameters } = tool.inputSchema;
  return {
    description: storableText(tool.description),
    jsonSchema: storableJson({ name: tool.name, description: tool.description, parameters }),
    tags: [storableText(`mcp:${server.serverName}`)],
    metadata: storableJson({ mcp: { server_name: server.serverName, server_id: server.id } }),
  };
}

function columnsOf(input: Omit<NewMcpServer, 'organizationId'>): unknown[] {
  const json = (value: unknown) => (value === null || value === undefined ? null : storableJson(value));
  return [
    storableText(input.serverName),
    input.serverType,
    storableText(input.serverUrl),
    storableText(input.authHeader),
    storableText(input.authToken),
    json(input.customHeaders),
    storableText(input.command),
    json(input.args),
    json(input.env),
  ];
}

function nameTaken(error: unknown, serverName: string): unknown {
  if ((error as { code?: string }).code === '23505' && /mcp_servers_organization_id_server_name_key/.test(String((error as { constraint?: string }).constraint ?? error))) return new McpServerNameTaken(serverName);
  return error;
}
