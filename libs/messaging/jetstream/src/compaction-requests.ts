import type { NatsConnection } from '@nats-io/transport-node';
import { WorkerRequests, type WorkerReply } from './worker-requests';
import type { CompactionMode } from '@lrs/domain-run';

export interface CompactionRequest {
  organizationId: string;
  agentId: string;
  laneId: string;
  mode: CompactionMode;
  prompt: string | null;
  /** Model handle for the summary; the agent's own model when null. */
  model: string | null;
  keepFraction: number;
}

export interface CompactionResult {
  summary: string;
  summarizedIds: string[];
  keptIds: string[];
  contextSize: number;
  /** The newest message the summariser read: later ones stay in the context untouched. */
  seenUpToSequence: number;
}

export type CompactionReply = WorkerReply<CompactionResult>;

/** Summarising a thread needs a model, which only the llm-worker talks to; the gateway writes the result itself. */
/** The subject compaction requests go to (the worker's `@MessagePattern`). */
export const COMPACTION_REQUESTS = 'llm.compactions';

export class CompactionRequests extends WorkerRequests<CompactionRequest, CompactionResult> {
  constructor(nc: NatsConnection) {
    super(nc, COMPACTION_REQUESTS, { action: 'summarize the conversation', afterTimeout: 'nothing was changed' });
  }
}
