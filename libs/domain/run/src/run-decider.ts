import type { AnyRunEvent, RunEventDraft, RunFinishedData, StepCompletedData, StopReason } from '@lrs/contracts';
import { statusForStopReason } from './run-status';

/**
 * The run state machine. A run only ever moves forward from its latest event, so the decision
 * is a function of that event alone: every event carries what the next decision needs
 * (maxSteps, step index). The orchestrator appends the result with optimistic concurrency on
 * the run's subject, which makes a stale or repeated decision lose instead of double-writing.
 */
export interface DecisionContext {
  now: string;
  newStepId: () => string;
}

export function isTerminalEvent(event: AnyRunEvent): boolean {
  return event.type === 'RunFinished' || event.type === 'CallbackAttempted' || event.type === 'RunDeleted';
}

/** Events that start a run its lane has granted: RunStarted and the first step, appended as one chain. */
export function startRun(created: AnyRunEvent, ctx: DecisionContext, createdStreamSeq?: number): RunEventDraft[] {
  if (created.type !== 'RunCreated') return [];
  const { maxSteps } = created.data;
  return [{ type: 'RunStarted', data: { startedAt: ctx.now, maxSteps, createdStreamSeq } }, stepRequest(1, maxSteps, ctx, createdStreamSeq)];
}

export function finishRun(
  stopReason: StopReason,
  now: string,
  error: string | null = null,
  createdStreamSeq?: number,
): { type: 'RunFinished'; data: RunFinishedData } {
  return { type: 'RunFinished', data: { status: statusForStopReason(stopReason), stopReason, completedAt: now, error, createdStreamSeq } };
}

/** What follows the run's latest event, if it is the orchestrator's turn to act. */
export function nextAfter(latest: AnyRunEvent, ctx: DecisionContext): RunEventDraft[] {
  switch (latest.type) {
    case 'RunStarted':
      // Only reached when a crash split the start chain between its two appends.
      return [stepRequest(1, latest.data.maxSteps, ctx, latest.data.createdStreamSeq)];
    case 'StepCompleted': {
      const { stepIndex, maxSteps, continueLoop, stopReason, createdStreamSeq } = latest.data;
      if (!continueLoop) {
        const finished = finishRun(stopReason ?? 'end_turn', ctx.now, null, createdStreamSeq);
        const timeout = approvalTimeoutOf(latest.data);
        return [timeout ? { type: 'RunFinished', data: { ...finished.data, approvalTimeout: timeout } } : finished];
      }
      if (stepIndex >= maxSteps) return [finishRun('max_steps', ctx.now, null, createdStreamSeq)];
      return [stepRequest(stepIndex + 1, maxSteps, ctx, createdStreamSeq)];
    }
    case 'StepFailed':
      return [finishRun(latest.data.stopReason, ctx.now, `${latest.data.errorType}: ${latest.data.message}`, latest.data.createdStreamSeq)];
    default:
      // RunCreated waits for its lane; StepRequested is the worker's turn; terminal events end the run.
      return [];
  }
}

function approvalTimeoutOf(step: StepCompletedData): RunFinishedData['approvalTimeout'] {
  if (step.stopReason !== 'requires_approval' || !step.approvalTimeoutSeconds) return null;
  const request = step.messages.find((message) => message.message_type === 'approval_request_message');
  if (!request || request.message_type !== 'approval_request_message') return null;
  return { seconds: step.approvalTimeoutSeconds, toolCallIds: request.tool_calls.map((call) => call.tool_call_id) };
}

function stepRequest(stepIndex: number, maxSteps: number, ctx: DecisionContext, createdStreamSeq?: number): RunEventDraft {
  return { type: 'StepRequested', data: { stepId: ctx.newStepId(), stepIndex, maxSteps, requestedAt: ctx.now, createdStreamSeq } };
}
