import { buildRunEvent, type AnyRunEvent, type RunEventDataMap, type RunEventType } from '@lrs/contracts';
import { runTraceSpans, runTraceparent } from './run-trace';

const RUN_ID = 'run-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const base = { runId: RUN_ID, organizationId: 'org', agentId: 'agent-1', laneId: 'agent-1' };
const event = <T extends RunEventType>(seq: number, type: T, data: Partial<RunEventDataMap[T]>, at: string, traceparent: string | null = null) =>
  buildRunEvent({ ...base, seq, traceparent }, type, data as RunEventDataMap[T], at) as AnyRunEvent;
const ms = (iso: string) => Date.parse(iso);

function oneStepRun(traceparent: string | null = null): AnyRunEvent[] {
  return [
    event(1, 'RunCreated', { conversationId: null, createdAt: '2026-01-01T00:00:00.000Z' }, '2026-01-01T00:00:00.000Z', traceparent),
    event(2, 'StepRequested', { stepId: 'step-1', stepIndex: 1, requestedAt: '2026-01-01T00:00:00.100Z' }, '2026-01-01T00:00:00.100Z'),
    event(3, 'StepCompleted', {
      stepId: 'step-1',
      stepIndex: 1,
      model: 'gpt-4o-mini',
      modelHandle: 'openai/gpt-4o-mini',
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      messages: [],
      llmRequestStartedAtMs: ms('2026-01-01T00:00:00.150Z'),
      firstTokenAtMs: ms('2026-01-01T00:00:00.250Z'),
      completedAt: '2026-01-01T00:00:00.400Z',
    }, '2026-01-01T00:00:00.400Z'),
    event(4, 'RunFinished', { status: 'completed', stopReason: 'end_turn', error: null, completedAt: '2026-01-01T00:00:00.450Z' }, '2026-01-01T00:00:00.450Z'),
    event(5, 'CallbackAttempted', { attempt: 1, sentAt: '2026-01-01T00:00:00.500Z', statusCode: 503, error: null, final: false }, '2026-01-01T00:00:00.520Z'),
  ];
}

describe('runTraceSpans', () => {
  it('rebuilds run, step, model request, first token and callback spans with durations from the events', () => {
    const spans = runTraceSpans(oneStepRun());
    expect(spans.map((s) => s.SpanName)).toEqual(['run', 'agent_step', 'llm_request', 'time_to_first_token', 'callback']);
    const [run, step, llm, ttft, callback] = spans;
    expect(run).toMatchObject({ Duration: 450_000_000, ParentSpanId: '', StatusCode: 'STATUS_CODE_OK', SpanAttributes: { run_id: RUN_ID, status: 'completed', stop_reason: 'end_turn' } });
    expect(step).toMatchObject({ ParentSpanId: run.SpanId, Duration: 300_000_000, SpanAttributes: { step_index: '1', total_tokens: '12', model: 'openai/gpt-4o-mini' } });
    expect(llm).toMatchObject({ ParentSpanId: step.SpanId, Duration: 250_000_000, SpanKind: 'SPAN_KIND_CLIENT' });
    expect(ttft).toMatchObject({ ParentSpanId: step.SpanId, Duration: 100_000_000 });
    expect(callback).toMatchObject({ ParentSpanId: run.SpanId, StatusCode: 'STATUS_CODE_ERROR', Duration: 20_000_000, SpanAttributes: { status_code: '503' } });
    expect(new Set(spans.map((s) => s.TraceId))).toEqual(new Set(['0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d']));
    expect(new Set(spans.map((s) => s.SpanId)).size).toBe(spans.length);
  });

  it('joins the trace the request came with and is the same on every read', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const spans = runTraceSpans(oneStepRun(traceparent));
    expect(spans[0]).toMatchObject({ TraceId: '4bf92f3577b34da6a3ce929d0e0e4736', ParentSpanId: '00f067aa0ba902b7' });
    expect(runTraceSpans(oneStepRun(traceparent))).toEqual(spans);
  });

  it('marks a failed step and leaves an unfinished run unset', () => {
    const events = [
      ...oneStepRun().slice(0, 2),
      event(3, 'StepFailed', { stepId: 'step-1', stepIndex: 1, errorType: 'llm_api_error', message: 'upstream 500', attempts: 3, failedAt: '2026-01-01T00:00:01.000Z' }, '2026-01-01T00:00:01.000Z'),
    ];
    const [run, step] = runTraceSpans(events);
    expect(run).toMatchObject({ StatusCode: 'STATUS_CODE_UNSET', SpanAttributes: { status: 'running' } });
    expect(step).toMatchObject({ SpanName: 'agent_step', StatusCode: 'STATUS_CODE_ERROR', StatusMessage: 'upstream 500', Duration: 900_000_000 });
  });
});

describe('runTraceparent', () => {
  it("is the run's own traceparent, else the trace and root span runTraceSpans gives a run without one", () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(runTraceparent({ runId: RUN_ID, traceparent })).toBe(traceparent);
    const [run] = runTraceSpans(oneStepRun());
    expect(runTraceparent({ runId: RUN_ID, traceparent: null })).toBe(`00-${run.TraceId}-${run.SpanId}-01`);
  });
});
