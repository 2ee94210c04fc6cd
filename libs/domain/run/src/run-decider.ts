import type {
  AnyRunEvent,
  CallbackAttemptedData,
  RunEventDraft,
  RunFinishedData,
  StepCompletedData,
  StepFailedData,
  StopReason,
} from '@lrs/contracts';
import { statusForStopReason } from './run-status';

/**
 * The run lifecycle: every rule that moves a run from one state to the next, in one place.
 *
 * A run only ever moves forward from its latest event, and every event carries what the next
 * decision needs (maxSteps, step index, the RunCreated's stream position), so the state is a
 * function of the latest event (`stateOf`). `evolve` applies one event; `decide` answers one
 * input (the orchestrator's turn, a step's outcome, a cancel, a delete, a callback result, an
 * approval that is due, a handler that gave up) with what to do. Both are pure: the services
 * load the run's latest event, call `decide`, and append its events conditionally on that event
 * still being the latest (RunCommands in the jetstream lib), so a stale or repeated decision
 * loses instead of double-writing.
 */
export interface DecisionContext {
  now: string;
  newStepId: () => string;
}

/** Where the run's RunCreated is stored; carried by every event so any handler can read it in one get. */
type CreatedAt = { createdStreamSeq?: number };

export type RunState =
  /** No event yet: the run does not exist (or its log is gone). */
  | { kind: 'absent' }
  /** RunCreated: waiting for its lane to grant it. */
  | ({ kind: 'queued'; maxSteps: number } & CreatedAt)
  /** RunStarted without its first StepRequested: only a crash between the two appends leaves this. */
  | ({ kind: 'started'; maxSteps: number } & CreatedAt)
  /** StepRequested: the worker's turn. */
  | ({ kind: 'stepping'; stepId: string; stepIndex: number; maxSteps: number } & CreatedAt)
  /** StepCompleted: the orchestrator's turn, to request the next step or finish. */
  | ({ kind: 'stepCompleted'; step: StepCompletedData } & CreatedAt)
  /** StepFailed: the orchestrator's turn, to finish the run failed. */
  | ({ kind: 'stepFailed'; step: StepFailedData } & CreatedAt)
  /**
   * RunFinished, then its callback attempts. `outcome` is known when the RunFinished itself was
   * evolved (not when the state starts from a later CallbackAttempted).
   */
  | ({ kind: 'finished'; outcome: RunFinishedData | null; callback: Pick<CallbackAttemptedData, 'attempt' | 'final'> | null } & CreatedAt)
  /** RunDeleted: nothing moves it any more. */
  | { kind: 'deleted' };

export type RunStateKind = RunState['kind'];
export const RUN_STATE_KINDS: readonly RunStateKind[] = ['absent', 'queued', 'started', 'stepping', 'stepCompleted', 'stepFailed', 'finished', 'deleted'];

export const ABSENT: RunState = { kind: 'absent' };

/** One event applied to the run's state. */
export function evolve(state: RunState, event: AnyRunEvent): RunState {
  switch (event.type) {
    case 'RunCreated':
      // A RunCreated's own position is its stream sequence, which the event does not hold.
      return state.kind === 'absent' ? { kind: 'queued', maxSteps: event.data.maxSteps } : state;
    case 'RunStarted':
      return { kind: 'started', maxSteps: event.data.maxSteps, createdStreamSeq: event.data.createdStreamSeq };
    case 'StepRequested': {
      const { stepId, stepIndex, maxSteps, createdStreamSeq } = event.data;
      return { kind: 'stepping', stepId, stepIndex, maxSteps, createdStreamSeq };
    }
    case 'StepCompleted':
      return { kind: 'stepCompleted', step: event.data, createdStreamSeq: event.data.createdStreamSeq };
    case 'StepFailed':
      return { kind: 'stepFailed', step: event.data, createdStreamSeq: event.data.createdStreamSeq };
    case 'RunFinished':
      return { kind: 'finished', outcome: event.data, callback: null, createdStreamSeq: event.data.createdStreamSeq };
    case 'CallbackAttempted': {
      const callback = { attempt: event.data.attempt, final: event.data.final };
      return state.kind === 'finished' ? { ...state, callback } : { kind: 'finished', outcome: null, callback };
    }
    case 'RunDeleted':
      return { kind: 'deleted' };
    default:
      return unreachable(event, 'run event');
  }
}

/** The run's state as its latest event leaves it. */
export function stateOf(latest: AnyRunEvent | null | undefined): RunState {
  return latest ? evolve(ABSENT, latest) : ABSENT;
}

/** The run has ended: nothing but its callback and deletion follow. */
export function isSettled(state: RunState): boolean {
  return state.kind === 'finished' || state.kind === 'deleted';
}

export function isTerminalEvent(event: AnyRunEvent): boolean {
  return isSettled(stateOf(event));
}

/** What a callback attempt came to, as the delivery lib classifies it. */
export type CallbackAttemptOutcome = 'delivered' | 'retryable' | 'rejected';

/** What a worker appends for a step: its StepCompleted or StepFailed. */
export type StepAnswer = Extract<RunEventDraft, { type: 'StepCompleted' | 'StepFailed' }>;

export type RunInput =
  /** The run's lane granted it (orchestrator). */
  | { kind: 'laneGranted'; createdStreamSeq?: number }
  /** An event the orchestrator consumes arrived: what follows it, if it is the orchestrator's turn. */
  | { kind: 'advance' }
  /** The worker answered a step (StepCompleted or StepFailed), built with `stepVerdict`. */
  | { kind: 'stepOutcome'; stepId: string; answer: StepAnswer }
  /** A client cancelled the run (gateway). */
  | { kind: 'cancel' }
  /** A client deleted the run (gateway). */
  | { kind: 'delete' }
  /** The callback dispatcher made an attempt. */
  | { kind: 'callbackResult'; sentAt: string; statusCode: number | null; error: string | null; outcome: CallbackAttemptOutcome; maxAttempts: number }
  /** The durable timer of a pause for approval fired; `laneMovedOn` when another run was queued on the lane since (the answer). */
  | { kind: 'approvalDue'; nowMs: number; laneMovedOn: boolean }
  /** A handler ran out of redeliveries (or time) on this run: the run must still end. */
  | { kind: 'gaveUp'; reason: string };

export type RunInputKind = RunInput['kind'];

export type RunDecision =
  /** Append these events, in order, behind the latest one. */
  | { kind: 'append'; events: RunEventDraft[] }
  /** Nothing to do; `why` names the rule, for logs and tests. */
  | { kind: 'none'; why: string }
  /** Ask again in `delayMs` (an approval that is not due yet). */
  | { kind: 'later'; delayMs: number }
  /** Start the run that denies the timed-out approval and continues (`approvalTimeoutRun`). */
  | { kind: 'continueAfterTimeout' };

/** The one answer to every input in every state. */
export function decide(state: RunState, input: RunInput, ctx: DecisionContext): RunDecision {
  switch (input.kind) {
    case 'laneGranted':
      if (state.kind !== 'queued') return none('only a queued run starts');
      return append(
        { type: 'RunStarted', data: { startedAt: ctx.now, maxSteps: state.maxSteps, createdStreamSeq: input.createdStreamSeq } },
        stepRequest(1, state.maxSteps, ctx, input.createdStreamSeq),
      );
    case 'advance':
      return advance(state, ctx);
    case 'stepOutcome':
      if (state.kind !== 'stepping' || state.stepId !== input.stepId) return none('the step is no longer the one the run waits for');
      return append({ ...input.answer, data: { ...input.answer.data, createdStreamSeq: state.createdStreamSeq } } as RunEventDraft);
    case 'cancel':
      if (state.kind === 'absent') return none('no such run');
      if (isSettled(state)) return none('the run has ended already');
      return append(finishRun('cancelled', ctx.now, null, createdStreamSeqOfState(state)));
    case 'delete':
      if (state.kind === 'absent' || state.kind === 'deleted') return none('nothing to delete');
      return append({ type: 'RunDeleted', data: { deletedAt: ctx.now } });
    case 'callbackResult': {
      if (state.kind !== 'finished') return none('only a finished run calls back');
      if (state.callback?.final) return none('the callback is settled');
      const attempt = nextCallbackAttempt(state)!;
      const final = input.outcome !== 'retryable' || attempt >= input.maxAttempts;
      return append({ type: 'CallbackAttempted', data: { attempt, sentAt: input.sentAt, statusCode: input.statusCode, error: input.error, final } });
    }
    case 'approvalDue': {
      const timeout = state.kind === 'finished' ? state.outcome?.approvalTimeout : null;
      if (state.kind !== 'finished' || !state.outcome || !timeout) return none('no approval timeout');
      const remaining = Date.parse(state.outcome.completedAt) + timeout.seconds * 1000 - input.nowMs;
      if (remaining > 0) return { kind: 'later', delayMs: remaining };
      if (input.laneMovedOn) return none('the approval was answered');
      return { kind: 'continueAfterTimeout' };
    }
    case 'gaveUp':
      if (state.kind === 'absent' || isSettled(state)) return none('the run has ended already');
      return append(finishRun('error', ctx.now, input.reason, createdStreamSeqOfState(state)));
    default:
      return unreachable(input, 'run input');
  }
}

/** The orchestrator's turn after the latest event. */
function advance(state: RunState, ctx: DecisionContext): RunDecision {
  switch (state.kind) {
    case 'started':
      return append(stepRequest(1, state.maxSteps, ctx, state.createdStreamSeq));
    case 'stepCompleted': {
      const { stepIndex, maxSteps, continueLoop, stopReason } = state.step;
      if (!continueLoop) {
        const finished = finishRun(stopReason ?? 'end_turn', ctx.now, null, state.createdStreamSeq);
        const timeout = approvalTimeoutOf(state.step);
        return append(timeout ? { type: 'RunFinished', data: { ...finished.data, approvalTimeout: timeout } } : finished);
      }
      if (stepIndex >= maxSteps) return append(finishRun('max_steps', ctx.now, null, state.createdStreamSeq));
      return append(stepRequest(stepIndex + 1, maxSteps, ctx, state.createdStreamSeq));
    }
    case 'stepFailed':
      return append(finishRun(state.step.stopReason, ctx.now, `${state.step.errorType}: ${state.step.message}`, state.createdStreamSeq));
    case 'absent':
      return none('no such run');
    case 'queued':
      return none('the run waits for its lane');
    case 'stepping':
      return none("the worker's turn");
    case 'finished':
    case 'deleted':
      return none('the run has ended');
    default:
      return unreachable(state, 'run state');
  }
}

/** The number the next callback attempt gets, or null when none is due (not finished, or settled). */
export function nextCallbackAttempt(state: RunState): number | null {
  if (state.kind !== 'finished' || state.callback?.final) return null;
  return (state.callback?.attempt ?? 0) + 1;
}

/**
 * What a model's reply makes of the step (the letta_v1_agent loop): any tool call asks for
 * another step, unless the step paused on calls the client or a human must answer; plain text
 * ends the turn. An empty reply and a reply cut off at max_tokens end the run with their reason.
 */
export function stepVerdict(reply: { textLength: number; calls: number; pendingCalls: number; finishReason: string | null }): {
  continueLoop: boolean;
  stopReason: StopReason | null;
} {
  const { textLength, calls, pendingCalls, finishReason } = reply;
  const stopReason: StopReason | null =
    pendingCalls > 0
      ? 'requires_approval'
      : textLength === 0 && calls === 0
        ? 'invalid_llm_response'
        : finishReason === 'length' && calls === 0
          ? 'max_tokens_exceeded'
          : null;
  return { continueLoop: calls > 0 && pendingCalls === 0, stopReason };
}

export function finishRun(
  stopReason: StopReason,
  now: string,
  error: string | null = null,
  createdStreamSeq?: number,
): { type: 'RunFinished'; data: RunFinishedData } {
  return { type: 'RunFinished', data: { status: statusForStopReason(stopReason), stopReason, completedAt: now, error, createdStreamSeq } };
}

function createdStreamSeqOfState(state: RunState): number | undefined {
  return 'createdStreamSeq' in state ? state.createdStreamSeq : undefined;
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

function append(...events: RunEventDraft[]): RunDecision {
  return { kind: 'append', events };
}

function none(why: string): RunDecision {
  return { kind: 'none', why };
}

/** The compile-time check that a switch names every case: a new state, input or event fails the build here. */
export function unreachable(value: never, what: string): never {
  throw new Error(`unknown ${what}: ${JSON.stringify(value)}`);
}
