import { Body, ConflictException, Controller, Delete, Get, HttpCode, HttpException, Inject, Logger, NotFoundException, Param, Patch, Post, Query, UnprocessableEntityException, type PipeTransform } from '@nestjs/common';
import { McpToolListRequests, McpToolRunRequests } from '@lrs/jetstream';
import { readMcpSettings, type McpSettings } from '@lrs/mcp-client';
import { MCP_SERVER_ID_PREFIX, McpServerNameTaken, McpServerStore, toToolView, type McpServerSnapshot, type McpToolSync } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { ToolIdPipe } from '../http/letta-id.pipe';
import { callerOrganization } from '../auth/caller';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { CreateMcpServerDto, RefreshMcpServerQueryDto, RunMcpToolDto, UpdateMcpServerDto } from './mcp-servers.dto';
import { requireAllowed, serverFieldsOf, toMcpServerView } from './mcp-server-config';

/** The operator's MCP rules, as the llm-worker reads them too. */
export const MCP_SETTINGS = Symbol('MCP_SETTINGS');
export const mcpSettingsProvider = { provide: MCP_SETTINGS, useFactory: (): McpSettings => readMcpSettings() };

/** Servers one organization may register: each is a connection (or a process) in every llm-worker. */
export const MAX_MCP_SERVERS_PER_ORGANIZATION = 100;

const MCP_SERVER_ID = new RegExp(`^${MCP_SERVER_ID_PREFIX}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`);

/** Path ids of MCP servers: `mcp_server-<uuid4>`, else 422 as for Letta's other ids. */
const McpServerIdPipe: PipeTransform<string, string> = {
  transform(value: string): string {
    if (MCP_SERVER_ID.test(value)) return value;
    throw new UnprocessableEntityException({ detail: `mcp_server_id: String should match pattern '${MCP_SERVER_ID_PREFIX}-{uuid4}' (got '${String(value).slice(0, 200)}')` });
  },
};

/**
 * Letta's `/v1/mcp-servers`: an organization's MCP servers and their tools. A server's tools are
 * tools of the organization (`external_mcp`), attached to agents like any other; they are listed
 * from the server when it is registered, changed or refreshed. The connections live in the
 * llm-workers: this side stores, masks and asks. Another organization's server is a 404.
 */
@Controller('v1/mcp-servers')
export class McpServersController {
  private readonly logger = new Logger('McpServers');

  constructor(
    private readonly servers: McpServerStore,
    private readonly toolLists: McpToolListRequests,
    private readonly toolRuns: McpToolRunRequests,
    @Inject(MCP_SETTINGS) private readonly mcp: McpSettings,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  /** Registers a server and stores its tools; a server that cannot be reached yet is kept (refresh lists its tools later), as Letta does. */
  @LettaOperation('mcp_create_server', 'Register an MCP server and list its tools', 'McpServer')
  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateMcpServerDto) {
    const fields = serverFieldsOf(body.config, null);
    requireAllowed(fields, this.mcp);
    if ((await this.servers.count(callerOrganization())) >= MAX_MCP_SERVERS_PER_ORGANIZATION) {
      throw new UnprocessableEntityException({ detail: `Invalid request: the organization has ${MAX_MCP_SERVERS_PER_ORGANIZATION} MCP servers, the most this server allows; delete some first` });
    }
    const server = await this.named(body.server_name, () => this.servers.create({ organizationId: callerOrganization(), serverName: body.server_name, ...fields }));
    await this.syncQuietly(server);
    return toMcpServerView(server);
  }

  @LettaOperation('mcp_list_servers', "List the organization's MCP servers", { arrayOf: 'McpServer' })
  @Get()
  async list() {
    return (await this.servers.list(callerOrganization())).map(toMcpServerView);
  }

  @LettaOperation('mcp_retrieve_server', 'Retrieve an MCP server', 'McpServer')
  @Get(':mcp_server_id')
  async retrieve(@Param('mcp_server_id', McpServerIdPipe) serverId: string) {
    return toMcpServerView(await this.server(serverId));
  }

  /** Given fields change (a masked secret keeps its value); the tools are listed again from the server as it is now. */
  @LettaOperation('mcp_update_server', 'Update an MCP server', 'McpServer')
  @Patch(':mcp_server_id')
  async update(@Param('mcp_server_id', McpServerIdPipe) serverId: string, @Body() body: UpdateMcpServerDto) {
    const current = await this.server(serverId);
    const fields = serverFieldsOf(body.config, current);
    requireAllowed(fields, this.mcp);
    const name = body.server_name ?? current.serverName;
    const updated = await this.named(name, () => this.servers.update(callerOrganization(), serverId, { serverName: name, ...fields }));
    if (!updated) throw serverNotFound(serverId);
    await this.syncQuietly(updated);
    return toMcpServerView(updated);
  }

  /** Deletes the server and its tools, which leave every agent that had them. */
  @LettaOperation('mcp_delete_server', 'Delete an MCP server and its tools', 'Deleted')
  @Delete(':mcp_server_id')
  @HttpCode(204)
  async remove(@Param('mcp_server_id', McpServerIdPipe) serverId: string): Promise<void> {
    if (!(await this.servers.delete(callerOrganization(), serverId))) throw serverNotFound(serverId);
  }

  /** Lists the server's tools again: new ones are added, changed ones updated, those gone deleted (and detached). */
  @LettaOperation('mcp_refresh_server', "Refresh an MCP server's tools", 'McpToolRefresh')
  @Patch(':mcp_server_id/refresh')
  async refresh(@Param('mcp_server_id', McpServerIdPipe) serverId: string, @Query() _query: RefreshMcpServerQueryDto) {
    const server = await this.server(serverId);
    const sync = await this.sync(server);
    return {
      message: `MCP server '${server.serverName}': ${sync.added.length} tools added, ${sync.updated.length} updated, ${sync.deleted.length} deleted, ${sync.skipped.length} skipped`,
      added: sync.added,
      updated: sync.updated,
      deleted: sync.deleted,
      skipped: sync.skipped,
    };
  }

  @LettaOperation('mcp_list_tools', "List an MCP server's tools", { arrayOf: 'Tool' })
  @Get(':mcp_server_id/tools')
  async tools(@Param('mcp_server_id', McpServerIdPipe) serverId: string) {
    await this.server(serverId);
    return (await this.servers.tools(callerOrganization(), serverId)).map(toToolView);
  }

  @LettaOperation('mcp_retrieve_tool', "Retrieve one of an MCP server's tools", 'Tool')
  @Get(':mcp_server_id/tools/:tool_id')
  async tool(@Param('mcp_server_id', McpServerIdPipe) serverId: string, @Param('tool_id', ToolIdPipe) toolId: string) {
    await this.server(serverId);
    const tool = await this.servers.tool(callerOrganization(), serverId, toolId);
    if (!tool) throw new NotFoundException({ detail: `Tool with id '${toolId}' not found on MCP server '${serverId}'` });
    return toToolView(tool);
  }

  /** Runs the tool on its server now, outside any agent; a server that fails is a 200 with status `error`, as a tool that fails. */
  @LettaOperation('mcp_run_tool', "Run one of an MCP server's tools", 'ToolExecutionResult')
  @Post(':mcp_server_id/tools/:tool_id/run')
  @HttpCode(200)
  async run(@Param('mcp_server_id', McpServerIdPipe) serverId: string, @Param('tool_id', ToolIdPipe) toolId: string, @Body() body: RunMcpToolDto) {
    await this.server(serverId);
    const tool = await this.servers.tool(callerOrganization(), serverId, toolId);
    if (!tool) throw new NotFoundException({ detail: `Tool with id '${toolId}' not found on MCP server '${serverId}'` });
    const reply = await this.toolRuns.request({ organizationId: callerOrganization(), serverId, toolName: tool.name, args: body.args ?? {} }, this.runTimeoutMs());
    if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
    return {
      status: reply.status,
      func_return: reply.output,
      agent_state: null,
      sandbox_config_fingerprint: null,
      stdout: [],
      stderr: reply.status === 'error' ? [reply.output] : [],
    };
  }

  private async server(serverId: string): Promise<McpServerSnapshot> {
    const server = await this.servers.get(callerOrganization(), serverId);
    if (!server) throw serverNotFound(serverId);
    return server;
  }

  private async sync(server: McpServerSnapshot): Promise<McpToolSync> {
    const reply = await this.toolLists.request({ organizationId: server.organizationId, serverId: server.id }, this.listTimeoutMs());
    if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
    const sync = await this.servers.syncTools(server, reply.tools, this.settings.maxToolsPerOrganization);
    if (!sync) throw serverNotFound(server.id);
    if (sync.skipped.length) this.logger.warn(`MCP server ${server.id}: tools not stored: ${sync.skipped.map((skip) => `${skip.name} (${skip.reason})`).join('; ')}`);
    return sync;
  }

  /** On create and update: a server that cannot be listed now is still registered; the reason is logged (never its secrets). */
  private async syncQuietly(server: McpServerSnapshot): Promise<void> {
    try {
      await this.sync(server);
    } catch (error) {
      const detail = error instanceof HttpException ? JSON.stringify(error.getResponse()) : String(error);
      this.logger.warn(`MCP server ${server.id}: its tools could not be listed (refresh it later): ${detail}`);
    }
  }

  /** A worker's connect, then the calls that list every page, with room to answer. */
  private listTimeoutMs(): number {
    return this.mcp.connectTimeoutMs + 2 * this.mcp.callTimeoutMs + 5_000;
  }

  /** Two connects at most (a kept connection that failed is replaced once) and the call. */
  private runTimeoutMs(): number {
    return 2 * this.mcp.connectTimeoutMs + this.mcp.callTimeoutMs + 5_000;
  }

  private async named<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof McpServerNameTaken) throw new ConflictException({ detail: `CONFLICT: an MCP server named '${name}' already exists in this organization` });
      throw error;
    }
  }
}

function serverNotFound(serverId: string): NotFoundException {
  return new NotFoundException({ detail: `MCP server with id '${serverId}' not found` });
}
