import {
  buildRunEvent,
  type AnyRunEvent,
  type RunEventDataMap,
  type RunEventType,
  type StepCompletedData,
  type StopReason,
} from '@lrs/contracts';
import {
  ABSENT,
  RUN_STATE_KINDS,
  decide,
  evolve,
  finishRun,
  isTerminalEvent,
  nextCallbackAttempt,
  stateOf,
  stepVerdict,
  type DecisionContext,
  type RunDecision,
  type RunInput,
  type RunInputKind,
  type RunState,
  type RunStateKind,
} from './run-decider';

const NOW = '2025-03-04T05:06:07.000Z';
const BASE = { runId: 'run-1', seq: 1, organizationId: 'org-1', agentId: 'agent-1', laneId: 'agent-1' };

function event<T extends RunEventType>(type: T, data: RunEventDataMap[T], seq = 1): AnyRunEvent {
  return buildRunEvent({ ...BASE, seq }, type, data, NOW) as AnyRunEvent;
}

function context(): DecisionContext & { issued: string[] } {
  const issued: string[] = [];
  return {
    now: NOW,
    issued,
    newStepId: () => {
      const id = `step-${issued.length + 1}`;
      issued.push(id);
      return id;
    },
  };
}

const created = (maxSteps = 5) =>
  event('RunCreated', {
    conversationId: null,
    background: true,
    createdAt: NOW,
    maxSteps,
    callbackUrl: null,
    overrideModel: null,
    clientTools: null,
    includeReturnMessageTypes: null,
    metadata: {},
    requestConfig: {
      use_assistant_message: true,
      assistant_message_tool_name: 'send_message',
      assistant_message_tool_kwarg: 'message',
      include_return_message_types: null,
    },
    input: [],
  });

const started = (maxSteps = 5) => event('RunStarted', { startedAt: NOW, maxSteps }, 2);
const requested = (stepIndex = 1) =>
  event('StepRequested', { stepId: 'step-x', stepIndex, maxSteps: 5, requestedAt: NOW }, 3);

function completed(overrides: Partial<StepCompletedData>): AnyRunEvent {
  return event(
    'StepCompleted',
    {
      stepId: 'step-x',
      stepIndex: 1,
      maxSteps: 5,
      model: 'gpt-4o-mini',
      modelHandle: 'openai/gpt-4o-mini',
      messages: [],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      continueLoop: false,
      stopReason: null,
      firstTokenAtMs: null,
      llmRequestStartedAtMs: 0,
      completedAt: NOW,
      ...overrides,
    },
    4,
  );
}

const failed = (stopReason: StopReason = 'llm_api_error') =>
  event(
    'StepFailed',
    {
      stepId: 'step-x',
      stepIndex: 2,
      stopReason,
      errorType: 'llm_rate_limit',
      message: 'model endpoint answered 429: slow down',
      attempts: 3,
      failedAt: NOW,
    },
    5,
  );

const finished = () =>
  event('RunFinished', { status: 'completed', stopReason: 'end_turn', completedAt: NOW, error: null }, 6);
const callback = () =>
  event('CallbackAttempted', { attempt: 1, sentAt: NOW, statusCode: 200, error: null, final: true }, 7);

const deleted = () => event('RunDeleted', { deletedAt: NOW }, 8);
const pausedFor = (seconds: number) =>
  event('RunFinished', { status: 'completed', stopReason: 'requires_approval', completedAt: NOW, error: null, approvalTimeout: { seconds, toolCallIds: ['call-1'] } }, 6);

/** A run in each of its states, as its latest event leaves it. */
const STATES: Record<RunStateKind, RunState> = {
  absent: ABSENT,
  queued: stateOf(created(7)),
  started: stateOf(started(9)),
  stepping: stateOf(requested()),
  stepCompleted: stateOf(completed({ continueLoop: true, stepIndex: 1, maxSteps: 5 })),
  stepFailed: stateOf(failed()),
  finished: stateOf(finished()),
  deleted: stateOf(deleted()),
};

const stepAnswer = { type: 'StepCompleted' as const, data: completed({}).data as StepCompletedData };

/** One of each input. */
const INPUTS: Record<RunInputKind, RunInput> = {
  laneGranted: { kind: 'laneGranted', createdStreamSeq: 41 },
  advance: { kind: 'advance' },
  stepOutcome: { kind: 'stepOutcome', stepId: 'step-x', answer: stepAnswer },
  cancel: { kind: 'cancel' },
  delete: { kind: 'delete' },
  callbackResult: { kind: 'callbackResult', sentAt: NOW, statusCode: 200, error: null, outcome: 'delivered', maxAttempts: 5 },
  approvalDue: { kind: 'approvalDue', nowMs: Date.parse(NOW), laneMovedOn: false },
  gaveUp: { kind: 'gaveUp', reason: 'internal_error: gave up' },
};

/**
 * Every state against every input: the event types the decision appends, or the kind of a
 * decision that appends nothing. This table is the lifecycle at a glance.
 */
const EXPECTED: Record<RunStateKind, Record<RunInputKind, string>> = {
  absent: { laneGranted: 'none', advance: 'none', stepOutcome: 'none', cancel: 'none', delete: 'none', callbackResult: 'none', approvalDue: 'none', gaveUp: 'none' },
  queued: { laneGranted: 'RunStarted,StepRequested', advance: 'none', stepOutcome: 'none', cancel: 'RunFinished', delete: 'RunDeleted', callbackResult: 'none', approvalDue: 'none', gaveUp: 'RunFinished' },
  started: { laneGranted: 'none', advance: 'StepRequested', stepOutcome: 'none', cancel: 'RunFinished', delete: 'RunDeleted', callbackResult: 'none', approvalDue: 'none', gaveUp: 'RunFinished' },
  stepping: { laneGranted: 'none', advance: 'none', stepOutcome: 'StepCompleted', cancel: 'RunFinished', delete: 'RunDeleted', callbackResult: 'none', approvalDue: 'none', gaveUp: 'RunFinished' },
  stepCompleted: { laneGranted: 'none', advance: 'StepRequested', stepOutcome: 'none', cancel: 'RunFinished', delete: 'RunDeleted', callbackResult: 'none', approvalDue: 'none', gaveUp: 'RunFinished' },
  stepFailed: { laneGranted: 'none', advance: 'RunFinished', stepOutcome: 'none', cancel: 'RunFinished', delete: 'RunDeleted', callbackResult: 'none', approvalDue: 'none', gaveUp: 'RunFinished' },
  finished: { laneGranted: 'none', advance: 'none', stepOutcome: 'none', cancel: 'none', delete: 'RunDeleted', callbackResult: 'CallbackAttempted', approvalDue: 'none', gaveUp: 'none' },
  deleted: { laneGranted: 'none', advance: 'none', stepOutcome: 'none', cancel: 'none', delete: 'none', callbackResult: 'none', approvalDue: 'none', gaveUp: 'none' },
};

function summary(decision: RunDecision): string {
  return decision.kind === 'append' ? decision.events.map((draft) => draft.type).join(',') : decision.kind;
}

describe('the run lifecycle: every state against every input', () => {
  const cases = RUN_STATE_KINDS.flatMap((state) => (Object.keys(INPUTS) as RunInputKind[]).map((input) => [state, input, EXPECTED[state][input]] as const));

  it('covers every state and every input', () => {
    expect(Object.keys(STATES).sort()).toEqual([...RUN_STATE_KINDS].sort());
    expect(cases).toHaveLength(RUN_STATE_KINDS.length * Object.keys(INPUTS).length);
  });

  it.each(cases)('given %s, when %s, then %s', (state, input, expected) => {
    expect(STATES[state].kind).toBe(state);
    expect(summary(decide(STATES[state], INPUTS[input], context()))).toBe(expected);
  });
});

describe('evolve', () => {
  it('takes each event to its state', () => {
    expect([created(), started(), requested(), completed({}), failed(), finished(), callback(), deleted()].map((latest) => stateOf(latest).kind)).toEqual([
      'queued',
      'started',
      'stepping',
      'stepCompleted',
      'stepFailed',
      'finished',
      'finished',
      'deleted',
    ]);
  });

  it('keeps the outcome of a finished run through its callback attempts', () => {
    const state = evolve(evolve(ABSENT, pausedFor(60)), callback());
    expect(state).toMatchObject({ kind: 'finished', outcome: { stopReason: 'requires_approval' }, callback: { attempt: 1, final: true } });
  });

  it('does not let a second RunCreated reset a run', () => {
    expect(evolve(stateOf(requested()), created()).kind).toBe('stepping');
  });
});

describe('given a queued run, when its lane grants it', () => {
  it('then it starts with RunStarted and the first StepRequested', () => {
    const ctx = context();
    expect(decide(stateOf(created(7)), { kind: 'laneGranted' }, ctx)).toEqual({
      kind: 'append',
      events: [
        { type: 'RunStarted', data: { startedAt: NOW, maxSteps: 7 } },
        { type: 'StepRequested', data: { stepId: 'step-1', stepIndex: 1, maxSteps: 7, requestedAt: NOW } },
      ],
    });
    expect(ctx.issued).toEqual(['step-1']);
  });
});

describe("the RunCreated's stream position", () => {
  it('is carried from the start through every step to the finish', () => {
    const start = decide(stateOf(created(2)), { kind: 'laneGranted', createdStreamSeq: 41 }, context());
    const [runStarted, firstStep] = start.kind === 'append' ? start.events : [];
    expect(runStarted.data).toMatchObject({ createdStreamSeq: 41 });
    expect(firstStep.data).toMatchObject({ createdStreamSeq: 41 });
    const step = (stepIndex: number, continueLoop: boolean) =>
      event('StepCompleted', { ...(completed({}).data as StepCompletedData), stepIndex, maxSteps: 2, continueLoop, createdStreamSeq: 41 }, 4);
    expect(advance(step(1, true))[0].data).toMatchObject({ stepIndex: 2, createdStreamSeq: 41 });
    expect(advance(step(1, false))[0]).toMatchObject({ type: 'RunFinished', data: { createdStreamSeq: 41 } });
    expect(advance(step(2, true))[0]).toMatchObject({ type: 'RunFinished', data: { stopReason: 'max_steps', createdStreamSeq: 41 } });
  });
});

function advance(latest: AnyRunEvent, ctx = context()) {
  const decision = decide(stateOf(latest), { kind: 'advance' }, ctx);
  return decision.kind === 'append' ? decision.events : [];
}

describe('when the orchestrator advances', () => {
  it('requests step 1 after a RunStarted whose chain was split', () => {
    expect(advance(started(9))).toEqual([{ type: 'StepRequested', data: { stepId: 'step-1', stepIndex: 1, maxSteps: 9, requestedAt: NOW } }]);
  });

  it('finishes with end_turn when the step does not continue and names no stop reason', () => {
    expect(advance(completed({ continueLoop: false, stopReason: null }))).toEqual([
      { type: 'RunFinished', data: { status: 'completed', stopReason: 'end_turn', completedAt: NOW, error: null } },
    ]);
  });

  it("finishes with the step's own stop reason when it names one", () => {
    expect(advance(completed({ continueLoop: false, stopReason: 'max_tokens_exceeded' }))).toEqual([
      { type: 'RunFinished', data: { status: 'failed', stopReason: 'max_tokens_exceeded', completedAt: NOW, error: null } },
    ]);
  });

  it('lets a stop reason end the run even below maxSteps', () => {
    const drafts = advance(completed({ continueLoop: false, stepIndex: 1, maxSteps: 10, stopReason: 'tool_rule' }));
    expect(drafts.map((draft) => draft.type)).toEqual(['RunFinished']);
  });

  it('requests the next step when the loop continues below maxSteps', () => {
    const ctx = context();
    expect(advance(completed({ continueLoop: true, stepIndex: 2, maxSteps: 5 }), ctx)).toEqual([
      { type: 'StepRequested', data: { stepId: 'step-1', stepIndex: 3, maxSteps: 5, requestedAt: NOW } },
    ]);
    expect(ctx.issued).toHaveLength(1);
  });

  it('requests the last allowed step when one step remains', () => {
    expect(advance(completed({ continueLoop: true, stepIndex: 4, maxSteps: 5 }))[0]).toMatchObject({ type: 'StepRequested', data: { stepIndex: 5 } });
  });

  it('finishes with max_steps when the loop wants to continue at maxSteps', () => {
    const ctx = context();
    expect(advance(completed({ continueLoop: true, stepIndex: 5, maxSteps: 5 }), ctx)).toEqual([
      { type: 'RunFinished', data: { status: 'completed', stopReason: 'max_steps', completedAt: NOW, error: null } },
    ]);
    expect(ctx.issued).toEqual([]);
  });

  it('finishes with max_steps when a maxSteps of 1 is used up by the first step', () => {
    expect(advance(completed({ continueLoop: true, stepIndex: 1, maxSteps: 1 }))[0]).toMatchObject({ type: 'RunFinished', data: { stopReason: 'max_steps' } });
  });

  it('pauses with the approval timeout the step asked for', () => {
    const request = { message_type: 'approval_request_message', tool_calls: [{ tool_call_id: 'call-7', name: 'x', arguments: '{}' }] };
    const [draft] = advance(
      completed({ continueLoop: false, stopReason: 'requires_approval', approvalTimeoutSeconds: 30, messages: [request as unknown as StepCompletedData['messages'][number]] }),
    );
    expect(draft).toMatchObject({ type: 'RunFinished', data: { stopReason: 'requires_approval', approvalTimeout: { seconds: 30, toolCallIds: ['call-7'] } } });
  });

  it('finishes a failed step with its stop reason and the error type and message', () => {
    expect(advance(failed('llm_api_error'))).toEqual([
      { type: 'RunFinished', data: { status: 'failed', stopReason: 'llm_api_error', completedAt: NOW, error: 'llm_rate_limit: model endpoint answered 429: slow down' } },
    ]);
  });

  it('maps a failed step stop reason through the status table', () => {
    expect(advance(failed('insufficient_credits'))[0]).toMatchObject({ data: { status: 'failed', stopReason: 'insufficient_credits' } });
  });
});

describe('given a step in flight, when the worker answers', () => {
  it('then an answer to another step is dropped', () => {
    expect(decide(stateOf(requested()), { ...INPUTS.stepOutcome, stepId: 'step-other' } as RunInput, context())).toMatchObject({ kind: 'none' });
  });

  it("then the answer carries the RunCreated's position", () => {
    const stepping = stateOf(event('StepRequested', { stepId: 'step-x', stepIndex: 1, maxSteps: 5, requestedAt: NOW, createdStreamSeq: 12 }, 3));
    const decision = decide(stepping, INPUTS.stepOutcome, context());
    expect(decision).toMatchObject({ kind: 'append', events: [{ type: 'StepCompleted', data: { stepId: 'step-x', createdStreamSeq: 12 } }] });
  });
});

describe('when a client cancels', () => {
  it("then the run ends cancelled behind whatever it did last, keeping the RunCreated's position", () => {
    const stepping = stateOf(event('StepRequested', { stepId: 'step-x', stepIndex: 2, maxSteps: 5, requestedAt: NOW, createdStreamSeq: 12 }, 3));
    expect(decide(stepping, { kind: 'cancel' }, context())).toEqual({
      kind: 'append',
      events: [{ type: 'RunFinished', data: { status: 'cancelled', stopReason: 'cancelled', completedAt: NOW, error: null, createdStreamSeq: 12 } }],
    });
  });
});

describe('when a handler gives up', () => {
  it('then an unfinished run ends failed with the reason', () => {
    expect(decide(stateOf(started()), { kind: 'gaveUp', reason: 'internal_error: x' }, context())).toMatchObject({
      kind: 'append',
      events: [{ type: 'RunFinished', data: { status: 'failed', stopReason: 'error', error: 'internal_error: x' } }],
    });
  });
});

describe('given a finished run, when a callback attempt returns', () => {
  const result = (outcome: 'delivered' | 'retryable' | 'rejected', maxAttempts = 5) => ({ ...INPUTS.callbackResult, outcome, maxAttempts }) as RunInput;
  const attempted = (attempt: number, final: boolean) => evolve(stateOf(finished()), event('CallbackAttempted', { attempt, sentAt: NOW, statusCode: 500, error: 'x', final }, 7));

  it('then the first attempt is number 1, final when delivered', () => {
    expect(nextCallbackAttempt(stateOf(finished()))).toBe(1);
    expect(decide(stateOf(finished()), result('delivered'), context())).toMatchObject({ kind: 'append', events: [{ type: 'CallbackAttempted', data: { attempt: 1, final: true } }] });
  });

  it('then a retryable failure numbers the next attempt from the log and stays open', () => {
    expect(nextCallbackAttempt(attempted(2, false))).toBe(3);
    expect(decide(attempted(2, false), result('retryable'), context())).toMatchObject({ events: [{ data: { attempt: 3, final: false } }] });
  });

  it('then the last allowed attempt is final even if it could be retried', () => {
    expect(decide(attempted(4, false), result('retryable', 5), context())).toMatchObject({ events: [{ data: { attempt: 5, final: true } }] });
  });

  it('then a failure no retry can fix is final at once', () => {
    expect(decide(stateOf(finished()), result('rejected'), context())).toMatchObject({ events: [{ data: { attempt: 1, final: true } }] });
  });

  it('then nothing follows a final attempt', () => {
    expect(nextCallbackAttempt(attempted(2, true))).toBeNull();
    expect(decide(attempted(2, true), result('delivered'), context())).toMatchObject({ kind: 'none' });
  });
});

describe('given a run paused for approval with a timeout, when its timer fires', () => {
  const due = (nowMs: number, laneMovedOn = false): RunInput => ({ kind: 'approvalDue', nowMs, laneMovedOn });
  const paused = stateOf(pausedFor(60));

  it('then it waits out the rest of the timeout', () => {
    expect(decide(paused, due(Date.parse(NOW) + 15_000), context())).toEqual({ kind: 'later', delayMs: 45_000 });
  });

  it('then, once due, the run that denies the calls and continues starts', () => {
    expect(decide(paused, due(Date.parse(NOW) + 60_000), context())).toEqual({ kind: 'continueAfterTimeout' });
  });

  it('then nothing happens when another run was queued on the lane meanwhile (the answer)', () => {
    expect(decide(paused, due(Date.parse(NOW) + 60_000, true), context())).toMatchObject({ kind: 'none' });
  });
});

describe('stepVerdict (what the model reply makes of the step)', () => {
  it.each([
    [{ textLength: 5, calls: 0, pendingCalls: 0, finishReason: 'stop' }, { continueLoop: false, stopReason: null }],
    [{ textLength: 0, calls: 2, pendingCalls: 0, finishReason: 'tool_calls' }, { continueLoop: true, stopReason: null }],
    [{ textLength: 0, calls: 2, pendingCalls: 1, finishReason: 'tool_calls' }, { continueLoop: false, stopReason: 'requires_approval' }],
    [{ textLength: 0, calls: 0, pendingCalls: 0, finishReason: 'stop' }, { continueLoop: false, stopReason: 'invalid_llm_response' }],
    [{ textLength: 9, calls: 0, pendingCalls: 0, finishReason: 'length' }, { continueLoop: false, stopReason: 'max_tokens_exceeded' }],
    [{ textLength: 9, calls: 1, pendingCalls: 0, finishReason: 'length' }, { continueLoop: true, stopReason: null }],
  ])('%j -> %j', (reply, verdict) => {
    expect(stepVerdict(reply)).toEqual(verdict);
  });
});

describe('finishRun', () => {
  it('defaults error to null', () => {
    expect(finishRun('end_turn', NOW)).toEqual({ type: 'RunFinished', data: { status: 'completed', stopReason: 'end_turn', completedAt: NOW, error: null } });
  });

  it('carries the error text and the status of the stop reason', () => {
    expect(finishRun('cancelled', NOW, 'cancelled by user')).toEqual({
      type: 'RunFinished',
      data: { status: 'cancelled', stopReason: 'cancelled', completedAt: NOW, error: 'cancelled by user' },
    });
  });
});

describe('isTerminalEvent', () => {
  it.each([
    ['RunFinished', true, finished()],
    ['CallbackAttempted', true, callback()],
    ['RunDeleted', true, deleted()],
    ['RunCreated', false, created()],
    ['RunStarted', false, started()],
    ['StepRequested', false, requested()],
    ['StepCompleted', false, completed({})],
    ['StepFailed', false, failed()],
  ])('%s is terminal: %s', (_type, terminal, latest) => {
    expect(isTerminalEvent(latest)).toBe(terminal);
  });
});
