import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  MCP_TOOL_LIST_REQUESTS,
  MCP_TOOL_RUN_REQUESTS,
  type McpToolListRequest,
  type McpToolListResult,
  type McpToolRunRequest,
  type McpToolRunResult,
  type WorkerReply,
} from '@lrs/jetstream';
import { McpServers } from '../../mcp/mcp-servers';

/**
 * The gateway's MCP requests: a registered server's tool list (on create and refresh), and a
 * direct run of one of its tools. Answered here, where the connections live.
 */
@Controller()
export class McpRequestedHandler {
  constructor(private readonly servers: McpServers) {}

  @MessagePattern(MCP_TOOL_LIST_REQUESTS)
  async listTools(@Payload() request: McpToolListRequest): Promise<WorkerReply<McpToolListResult>> {
    const server = await this.servers.get(request.organizationId, request.serverId);
    if (!server) return { ok: false, status: 404, detail: `MCP server with id '${request.serverId}' not found` };
    try {
      return { ok: true, tools: await this.servers.listTools(server) };
    } catch (error) {
      // 424: the request was fine, the server it depends on failed (a 5xx would say this server did).
      return { ok: false, status: 424, detail: `MCP server '${server.serverName}' could not list its tools: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  @MessagePattern(MCP_TOOL_RUN_REQUESTS)
  async runTool(@Payload() request: McpToolRunRequest): Promise<WorkerReply<McpToolRunResult>> {
    const server = await this.servers.get(request.organizationId, request.serverId);
    if (!server) return { ok: false, status: 404, detail: `MCP server with id '${request.serverId}' not found` };
    try {
      const result = await this.servers.callTool(server, request.toolName, request.args);
      return { ok: true, status: result.isError ? 'error' : 'success', output: result.text };
    } catch (error) {
      return { ok: true, status: 'error', output: `Error: MCP server '${server.serverName}' could not run '${request.toolName}': ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}
