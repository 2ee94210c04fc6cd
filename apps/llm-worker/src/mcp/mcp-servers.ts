import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { McpConnections, headersOf, readMcpSettings, type McpServerConfig, type McpSettings, type McpToolDefinition, type McpToolResult } from '@lrs/mcp-client';
import { McpServerStore, mcpServerIdOf, mcpServerNameOf, type McpServerSnapshot, type ToolSnapshot } from '@lrs/read-model';
import { isForbiddenAddress, lookupRefusingForbiddenAddresses } from '@lrs/webhook-delivery';

/**
 * This process's side of the organizations' MCP servers: finds a tool's server (by the id its row
 * carries, else by the server name an agent file gave it, so a tool imported before its server was
 * registered works once it is) and talks to it through one kept connection per server. The
 * operator's rules (private networks, stdio allowlist) are enforced here again, before any
 * connection, whatever the gateway let through.
 */
@Injectable()
export class McpServers implements OnApplicationShutdown {
  readonly settings: McpSettings = readMcpSettings();
  private readonly logger = new Logger('McpServers');
  private readonly connections = new McpConnections({
    settings: this.settings,
    isForbiddenAddress,
    lookup: lookupRefusingForbiddenAddresses,
    logger: { log: (message) => this.logger.log(message), warn: (message) => this.logger.warn(message) },
  });

  constructor(private readonly servers: McpServerStore) {}

  async get(organizationId: string, serverId: string): Promise<McpServerSnapshot | null> {
    return this.servers.get(organizationId, serverId);
  }

  /** The registered server a tool row belongs to, or the name of the one it waits for. */
  async serverOf(tool: ToolSnapshot, organizationId: string): Promise<{ server: McpServerSnapshot } | { missing: string | null }> {
    const id = mcpServerIdOf(tool);
    const byId = id ? await this.servers.get(organizationId, id) : null;
    if (byId) return { server: byId };
    const name = mcpServerNameOf(tool);
    const byName = name ? await this.servers.getByName(organizationId, name) : null;
    return byName ? { server: byName } : { missing: name };
  }

  listTools(server: McpServerSnapshot): Promise<McpToolDefinition[]> {
    return this.connections.listTools(server.id, configOf(server));
  }

  callTool(server: McpServerSnapshot, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<McpToolResult> {
    return this.connections.callTool(server.id, configOf(server), name, args, signal);
  }

  /** Stdio servers' processes end with the service. */
  async onApplicationShutdown(): Promise<void> {
    await this.connections.close();
  }
}

export function configOf(server: McpServerSnapshot): McpServerConfig {
  if (server.serverType === 'stdio') return { type: 'stdio', command: server.command ?? '', args: server.args ?? [], env: server.env ?? {} };
  return {
    type: server.serverType,
    url: server.serverUrl ?? '',
    headers: headersOf({ auth_header: server.authHeader, auth_token: server.authToken, custom_headers: server.customHeaders }),
  };
}
