import { Injectable } from '@nestjs/common';
import type { ToolCall } from '@lrs/contracts';
import type { ToolSnapshot } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';
import { McpServers } from '../mcp/mcp-servers';
import type { ToolContext } from './tool-context';
import type { ToolExecutor } from './tool-executor';
import { failure } from './tool-failure';

/**
 * Tools of MCP servers (`external_mcp`), those a registered server listed and those an agent file
 * brought: the call goes to the tool's server, found at call time, so a tool imported before its
 * server was registered runs once it is. A server that is missing, down, slow or refusing makes
 * an error result the model reads; the run goes on.
 */
@Injectable()
export class McpToolExecutor implements ToolExecutor {
  constructor(private readonly servers: McpServers) {}

  runs(tool: ToolSnapshot): boolean {
    return tool.toolType === 'external_mcp' && tool.organizationId !== null;
  }

  async execute(call: ToolCall, args: Record<string, unknown>, tool: ToolSnapshot, context: ToolContext): Promise<ToolOutcome> {
    const found = await this.servers.serverOf(tool, tool.organizationId ?? context.agent.organizationId);
    if ('missing' in found) {
      const which = found.missing === null ? 'its MCP server is not known (the tool names none)' : `its MCP server '${found.missing}' is not registered in this organization`;
      return failure(call, `Error: tool '${tool.name}' cannot run: ${which}; register the server (POST /v1/mcp-servers) to use it`);
    }
    const { server } = found;
    try {
      const result = await this.servers.callTool(server, tool.name, args, context.signal);
      return { call, status: result.isError ? 'error' : 'success', output: result.text };
    } catch (error) {
      return failure(call, `Error: MCP server '${server.serverName}' could not run '${tool.name}': ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
