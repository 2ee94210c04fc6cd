import type { RunStatus, StopReason } from '@lrs/contracts';

/** Letta's canonical stop_reason -> status table, applied on every route. */
const STATUS_BY_STOP_REASON: Record<StopReason, Exclude<RunStatus, 'created' | 'running'>> = {
  end_turn: 'completed',
  max_steps: 'completed',
  tool_rule: 'completed',
  requires_approval: 'completed',
  error: 'failed',
  invalid_tool_call: 'failed',
  no_tool_call: 'failed',
  invalid_llm_response: 'failed',
  llm_api_error: 'failed',
  max_tokens_exceeded: 'failed',
  context_window_overflow_in_system_prompt: 'failed',
  insufficient_credits: 'failed',
  cancelled: 'cancelled',
};

export function statusForStopReason(stopReason: StopReason): Exclude<RunStatus, 'created' | 'running'> {
  return STATUS_BY_STOP_REASON[stopReason];
}

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['created', 'running'];

export function isTerminalStatus(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
