import type { NatsConnection } from '@nats-io/transport-node';
import type { MemoryEdit } from '@lrs/contracts';
import { WorkerRequests, type WorkerReply } from './worker-requests';

export interface ToolRunRequest {
  organizationId: string;
  agentId: string;
  toolName: string;
  args: Record<string, unknown>;
}

export interface ToolRunResult {
  status: 'success' | 'error';
  /** What the tool returned (the text a model would see). */
  output: string;
  /** The tool's memory edits (operations with ids); the gateway commits them. */
  memoryEdits: MemoryEdit[];
  /** What a sandboxed tool printed. */
  stdout: string[];
  stderr: string[];
}

export type ToolRunReply = WorkerReply<ToolRunResult>;

/** The subject tool-run requests go to (the worker's `@MessagePattern`). */
export const TOOL_RUN_REQUESTS = 'llm.tool-runs';

/** Tools run where the model loop runs them, in the llm-worker; a direct run (agents.tools.run) asks one. */
export class ToolRunRequests extends WorkerRequests<ToolRunRequest, ToolRunResult> {
  constructor(nc: NatsConnection) {
    super(nc, TOOL_RUN_REQUESTS, { action: 'run the tool', afterTimeout: 'nothing was changed' });
  }
}

export interface ToolSchemaRequest {
  /** Python source of a custom tool: parsed in the sandbox, never run. */
  sourceCode: string;
}

export interface ToolSchemaResult {
  schema: { name: string; description: string; parameters: Record<string, unknown> };
}

/** The subject of schema requests for tools from source (`/v1/tools` without a `json_schema`). */
export const TOOL_SCHEMA_REQUESTS = 'llm.tool-schemas';

/** Python is parsed by the interpreter that will run it, which lives in the llm-worker's sandbox. */
export class ToolSchemaRequests extends WorkerRequests<ToolSchemaRequest, ToolSchemaResult> {
  constructor(nc: NatsConnection) {
    super(nc, TOOL_SCHEMA_REQUESTS, { action: 'read the tool source', afterTimeout: 'nothing was stored' });
  }
}
