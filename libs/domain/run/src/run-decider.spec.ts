import {
  buildRunEvent,
  type AnyRunEvent,
  type RunEventDataMap,
  type RunEventType,
  type StepCompletedData,
  type StopReason,
} from '@lrs/contracts';
import { finishRun, isTerminalEvent, nextAfter, startRun, type DecisionContext } from './run-decider';

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

describe('startRun', () => {
  it('starts a created run with RunStarted and the first StepRequested', () => {
    const ctx = context();
    const drafts = startRun(created(7), ctx);

    expect(drafts).toEqual([
      { type: 'RunStarted', data: { startedAt: NOW, maxSteps: 7 } },
      { type: 'StepRequested', data: { stepId: 'step-1', stepIndex: 1, maxSteps: 7, requestedAt: NOW } },
    ]);
    expect(ctx.issued).toEqual(['step-1']);
  });

  it.each([started(), requested(), completed({}), failed(), finished(), callback()])(
    'does nothing for a $type event',
    (latest) => {
      const ctx = context();
      expect(startRun(latest, ctx)).toEqual([]);
      expect(ctx.issued).toEqual([]);
    },
  );
});

describe("the RunCreated's stream position", () => {
  it('is carried from the start through every step to the finish', () => {
    const [runStarted, firstStep] = startRun(created(2), context(), 41);
    expect(runStarted.data).toMatchObject({ createdStreamSeq: 41 });
    expect(firstStep.data).toMatchObject({ createdStreamSeq: 41 });
    const step = (stepIndex: number, continueLoop: boolean) =>
      event('StepCompleted', { ...(completed({}).data as StepCompletedData), stepIndex, maxSteps: 2, continueLoop, createdStreamSeq: 41 }, 4);
    expect(nextAfter(step(1, true), context())[0].data).toMatchObject({ stepIndex: 2, createdStreamSeq: 41 });
    expect(nextAfter(step(1, false), context())[0]).toMatchObject({ type: 'RunFinished', data: { createdStreamSeq: 41 } });
    expect(nextAfter(step(2, true), context())[0]).toMatchObject({ type: 'RunFinished', data: { stopReason: 'max_steps', createdStreamSeq: 41 } });
  });
});

describe('nextAfter', () => {
  it('requests step 1 after a RunStarted whose chain was split', () => {
    expect(nextAfter(started(9), context())).toEqual([
      { type: 'StepRequested', data: { stepId: 'step-1', stepIndex: 1, maxSteps: 9, requestedAt: NOW } },
    ]);
  });

  it('finishes with end_turn when the step does not continue and names no stop reason', () => {
    expect(nextAfter(completed({ continueLoop: false, stopReason: null }), context())).toEqual([
      { type: 'RunFinished', data: { status: 'completed', stopReason: 'end_turn', completedAt: NOW, error: null } },
    ]);
  });

  it("finishes with the step's own stop reason when it names one", () => {
    const [draft] = nextAfter(completed({ continueLoop: false, stopReason: 'max_tokens_exceeded' }), context());
    expect(draft).toEqual({
      type: 'RunFinished',
      data: { status: 'failed', stopReason: 'max_tokens_exceeded', completedAt: NOW, error: null },
    });
  });

  it('lets a stop reason end the run even below maxSteps', () => {
    const drafts = nextAfter(completed({ continueLoop: false, stepIndex: 1, maxSteps: 10, stopReason: 'tool_rule' }), context());
    expect(drafts).toHaveLength(1);
    expect(drafts[0].type).toBe('RunFinished');
  });

  it('requests the next step when the loop continues below maxSteps', () => {
    const ctx = context();
    expect(nextAfter(completed({ continueLoop: true, stepIndex: 2, maxSteps: 5 }), ctx)).toEqual([
      { type: 'StepRequested', data: { stepId: 'step-1', stepIndex: 3, maxSteps: 5, requestedAt: NOW } },
    ]);
    expect(ctx.issued).toHaveLength(1);
  });

  it('requests the last allowed step when one step remains', () => {
    const [draft] = nextAfter(completed({ continueLoop: true, stepIndex: 4, maxSteps: 5 }), context());
    expect(draft).toMatchObject({ type: 'StepRequested', data: { stepIndex: 5 } });
  });

  it('finishes with max_steps when the loop wants to continue at maxSteps', () => {
    const ctx = context();
    expect(nextAfter(completed({ continueLoop: true, stepIndex: 5, maxSteps: 5 }), ctx)).toEqual([
      { type: 'RunFinished', data: { status: 'completed', stopReason: 'max_steps', completedAt: NOW, error: null } },
    ]);
    expect(ctx.issued).toEqual([]);
  });

  it('finishes with max_steps when a maxSteps of 1 is used up by the first step', () => {
    const [draft] = nextAfter(completed({ continueLoop: true, stepIndex: 1, maxSteps: 1 }), context());
    expect(draft).toMatchObject({ type: 'RunFinished', data: { stopReason: 'max_steps' } });
  });

  it("finishes a failed step with its stop reason and the error type and message", () => {
    expect(nextAfter(failed('llm_api_error'), context())).toEqual([
      {
        type: 'RunFinished',
        data: {
          status: 'failed',
          stopReason: 'llm_api_error',
          completedAt: NOW,
          error: 'llm_rate_limit: model endpoint answered 429: slow down',
        },
      },
    ]);
  });

  it('maps a failed step stop reason through the status table', () => {
    const [draft] = nextAfter(failed('insufficient_credits'), context());
    expect(draft).toMatchObject({ data: { status: 'failed', stopReason: 'insufficient_credits' } });
  });

  it.each([created(), requested(), finished(), callback()])('waits on a $type event', (latest) => {
    const ctx = context();
    expect(nextAfter(latest, ctx)).toEqual([]);
    expect(ctx.issued).toEqual([]);
  });
});

describe('finishRun', () => {
  it('defaults error to null', () => {
    expect(finishRun('end_turn', NOW)).toEqual({
      type: 'RunFinished',
      data: { status: 'completed', stopReason: 'end_turn', completedAt: NOW, error: null },
    });
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
    ['RunCreated', false, created()],
    ['RunStarted', false, started()],
    ['StepRequested', false, requested()],
    ['StepCompleted', false, completed({})],
    ['StepFailed', false, failed()],
  ])('%s is terminal: %s', (_type, terminal, latest) => {
    expect(isTerminalEvent(latest)).toBe(terminal);
  });
});
