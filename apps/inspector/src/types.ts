import type { LettaMessage, RunView } from '@lrs/contracts';

export type { LettaMessage, RunStatus, StopReason } from '@lrs/contracts';
export type { RunTimeline, RunTimelineEntry, TraceSpan } from '@lrs/domain-run';

/** GET /v1/runs/{id}/usage. */
export interface TokenTotals {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type RunUsage = TokenTotals & { step_count: number };

/** A run as GET /v1/runs?include_usage=true lists it. */
export type ListedRun = RunView & { usage?: RunUsage };
export type Run = RunView;

export interface Agent {
  id: string;
  name: string;
  model: string;
  description: string | null;
  created_at: string;
  blocks: { id: string; label: string; value: string; limit: number; read_only?: boolean; description?: string | null }[];
  tools: { name: string }[];
}

export const ACTIVE = new Set(['created', 'running']);
export const isActive = (run: Pick<RunView, 'status'>) => ACTIVE.has(run.status);
export type { LettaMessage as Message };
