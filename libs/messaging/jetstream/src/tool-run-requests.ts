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
