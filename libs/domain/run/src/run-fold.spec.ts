import { buildRunEvent, type AnyRunEvent, type LettaMessage, type RunEventDataMap, type RunEventType } from '@lrs/contracts';
import { evolveRun, foldFromView, foldRun } from './run-fold';
import { finishRun } from './run-decider';

const BASE = { runId: 'run-1', organizationId: 'org-1', agentId: 'agent-1', laneId: 'agent-1' };
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function event<T extends RunEventType>(seq: number, type: T, data: RunEventDataMap[T]): AnyRunEvent {
  return buildRunEvent({ ...BASE, seq }, type, data, at(seq)) as AnyRunEvent;
}

function message(id: string, type: 'user_message' | 'assistant_message', stepId: string | null): LettaMessage {
  return { id, date: at(0), name: null, message_type: type, otid: null, sender_id: null, step_id: stepId, is_err: null, seq_id: null, run_id: 'run-1', content: id };
}

const input = [message('m-in', 'user_message', null)];
const created = event(1, 'RunCreated', {
  conversationId: null,
  background: true,
  createdAt: at(0),
  maxSteps: 5,
  callbackUrl: 'https://example.com/hook',
  overrideModel: null,
  clientTools: null,
  includeReturnMessageTypes: null,
  metadata: { run_type: 'send_message_async' },
  requestConfig: { use_assistant_message: true, assistant_message_tool_name: 'send_message', assistant_message_tool_kwarg: 'message', include_return_message_types: null },
  input,
});
const started = event(2, 'RunStarted', { startedAt: at(10), maxSteps: 5 });
const requested = (seq: number, stepIndex: number) => event(seq, 'StepRequested', { stepId: `step-${stepIndex}`, stepIndex, maxSteps: 5, requestedAt: at(seq) });
const completed = (seq: number, stepIndex: number, tokens: number, messages: LettaMessage[]) =>
  event(seq, 'StepCompleted', {
    stepId: `step-${stepIndex}`,
    stepIndex,
    maxSteps: 5,
    model: 'gpt',
    modelHandle: 'openai/gpt',
    messages,
    usage: { prompt_tokens: tokens, completion_tokens: 1, total_tokens: tokens + 1 },
    continueLoop: false,
    stopReason: null,
    firstTokenAtMs: T0 + 12.5,
    llmRequestStartedAtMs: T0 + 11,
    completedAt: at(20),
  });

describe('foldRun', () => {
  it('is null without a RunCreated, and a queued run has no messages yet', () => {
    expect(foldRun([started])).toBeNull();
    const queued = foldRun([created])!;
    expect(queued.view).toMatchObject({ id: 'run-1', status: 'created', callback_url: 'https://example.com/hook', completed_at: null });
    expect(queued.messages).toEqual([]);
  });

  it('follows a run through its steps to its end: status, input then step messages, usage, ttft and duration', () => {
    const fold = foldRun([
      created,
      started,
      requested(3, 1),
      completed(4, 1, 10, [message('m-a', 'assistant_message', 'step-1')]),
      requested(5, 2),
      completed(6, 2, 20, [message('m-b', 'assistant_message', 'step-2')]),
      event(7, 'RunFinished', finishRun('end_turn', at(30)).data),
    ])!;
    expect(fold.view).toMatchObject({
      status: 'completed',
      stop_reason: 'end_turn',
      completed_at: '2026-01-01T00:00:00.030+00:00',
      total_duration_ns: 30_000_000,
      ttft_ns: 2_500_000,
    });
    expect(fold.messages.map((m) => m.id)).toEqual(['m-in', 'm-a', 'm-b']);
    expect(fold.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 2, total_tokens: 32, step_count: 2, context_tokens: 21 });
    expect(fold.version).toBe(7);
  });

  it('puts a failure into metadata.error, counts the failed step and records callback attempts', () => {
    const fold = foldRun([
      created,
      started,
      requested(3, 1),
      event(4, 'StepFailed', { stepId: 'step-1', stepIndex: 1, stopReason: 'llm_api_error', errorType: 'llm_timeout', message: 'slow', attempts: 3, failedAt: at(15) }),
      event(5, 'RunFinished', finishRun('llm_api_error', at(16), 'llm_timeout: slow').data),
      event(6, 'CallbackAttempted', { attempt: 1, sentAt: at(17), statusCode: 500, error: 'boom', final: false }),
    ])!;
    expect(fold.view).toMatchObject({
      status: 'failed',
      stop_reason: 'llm_api_error',
      metadata: { run_type: 'send_message_async', error: 'llm_timeout: slow' },
      callback_status_code: 500,
      callback_error: 'boom',
      callback_sent_at: '2026-01-01T00:00:00.017+00:00',
    });
    expect(fold.usage.step_count).toBe(1);
  });

  it('keeps terminal final, ignores redelivered and out-of-order events, and empties a deleted run', () => {
    const cancelled = foldRun([created, started, event(3, 'RunFinished', finishRun('cancelled', at(5)).data)])!;
    expect(evolveRun(cancelled, event(4, 'RunFinished', finishRun('end_turn', at(6)).data))!.view.status).toBe('cancelled');
    expect(evolveRun(cancelled, started)).toBe(cancelled);
    expect(evolveRun(cancelled, requested(9, 1))).toBe(cancelled);
    const gone = evolveRun(cancelled, event(4, 'RunDeleted', { deletedAt: at(7) }))!;
    expect(gone).toMatchObject({ deleted: true, messages: [] });
  });

  it('continues from a view the read model holds', () => {
    const running = foldRun([created, started])!;
    const resumed = foldFromView(running.view, 2, at(10));
    const fold = foldRun([requested(3, 1), completed(4, 1, 5, []), event(5, 'RunFinished', finishRun('end_turn', at(20)).data)], resumed)!;
    expect(fold.view).toMatchObject({ status: 'completed', ttft_ns: 2_500_000, total_duration_ns: 20_000_000 });
  });
});
