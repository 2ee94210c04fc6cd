import type { NatsConnection } from '@nats-io/transport-node';
import { WorkerRequests } from './worker-requests';

/** A tool an MCP server lists: its name, description and argument schema. */
export interface McpListedTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface McpToolListRequest {
  organizationId: string;
  serverId: string;
}

export interface McpToolListResult {
  tools: McpListedTool[];
}

/** The subject of tool-list requests for a registered MCP server (create and refresh). */
export const MCP_TOOL_LIST_REQUESTS = 'llm.mcp-tool-lists';

/**
 * MCP connections (and stdio servers' processes) live in the llm-worker, where agents' calls run:
 * the gateway asks it for a server's tools. Only ids travel; the worker reads the server's
 * configuration, secrets included, from Postgres.
 */
export class McpToolListRequests extends WorkerRequests<McpToolListRequest, McpToolListResult> {
  constructor(nc: NatsConnection) {
    super(nc, MCP_TOOL_LIST_REQUESTS, { action: "list the MCP server's tools", afterTimeout: 'nothing was stored' });
  }
}

export interface McpToolRunRequest {
  organizationId: string;
  serverId: string;
  toolName: string;
  args: Record<string, unknown>;
}

export interface McpToolRunResult {
  status: 'success' | 'error';
  /** The tool's answer, or why there is none (the server down, slow, or refusing). */
  output: string;
}

/** The subject of direct runs of an MCP server's tool (`/v1/mcp-servers/{id}/tools/{id}/run`). */
export const MCP_TOOL_RUN_REQUESTS = 'llm.mcp-tool-runs';

export class McpToolRunRequests extends WorkerRequests<McpToolRunRequest, McpToolRunResult> {
  constructor(nc: NatsConnection) {
    super(nc, MCP_TOOL_RUN_REQUESTS, { action: 'run the MCP tool', afterTimeout: 'the tool may still have run on its server' });
  }
}
