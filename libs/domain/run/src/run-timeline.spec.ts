import { buildRunEvent, type AnyRunEvent, type LettaMessage, type RunEventDataMap, type RunEventType } from '@lrs/contracts';
import { runTimeline } from './run-timeline';

const base = { runId: 'run-1', organizationId: 'org', agentId: 'agent-1', laneId: 'agent-1' };
const event = <T extends RunEventType>(seq: number, type: T, data: Partial<RunEventDataMap[T]>, at: string) =>
  buildRunEvent({ ...base, seq }, type, data as RunEventDataMap[T], at) as AnyRunEvent;
const ms = (iso: string) => Date.parse(iso);
const call = { name: 'memory_insert', arguments: '{"label":"human"}', tool_call_id: 'call_1' };
const envelope = { id: 'message-1', date: '2026-01-01T00:00:01.000Z', name: null, otid: null, sender_id: null, step_id: 'step-1', is_err: null, seq_id: null, run_id: 'run-1' };

function toolRun(): AnyRunEvent[] {
  const approval = { ...envelope, message_type: 'approval_response_message', approvals: [{ type: 'approval', tool_call_id: 'call_0', approve: false, reason: 'no' }], approve: false, approval_request_id: null, reason: 'no' };
  return [
    event(1, 'RunCreated', { createdAt: '2026-01-01T00:00:00.000Z', background: true, callbackUrl: 'http://127.0.0.1/hook', maxSteps: 10, input: [approval as LettaMessage] }, '2026-01-01T00:00:00.000Z'),
    event(2, 'RunStarted', { startedAt: '2026-01-01T00:00:00.300Z' }, '2026-01-01T00:00:00.300Z'),
    event(3, 'StepRequested', { stepId: 'step-1', stepIndex: 1, requestedAt: '2026-01-01T00:00:00.400Z' }, '2026-01-01T00:00:00.400Z'),
    event(4, 'StepCompleted', {
      stepId: 'step-1',
      stepIndex: 1,
      modelHandle: 'openai/gpt-4o-mini',
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      messages: [
        { ...envelope, message_type: 'tool_call_message', tool_call: call, tool_calls: [call] },
        { ...envelope, message_type: 'tool_return_message', tool_return: 'ok', status: 'success', tool_call_id: 'call_1', stdout: null, stderr: null, tool_returns: [] },
      ] as LettaMessage[],
      memoryEdits: [
        { id: 'edit-1', label: 'human', toolCallId: 'call_1', operation: { kind: 'insert', newStr: 'Likes tea', insertLine: -1 }, value: 'Sam\nLikes tea', blockId: 'block-1', version: 7 },
        // Written before edits carried their operation: only the value.
        { label: 'persona', value: 'Helpful' },
      ],
      llmRequestStartedAtMs: ms('2026-01-01T00:00:00.450Z'),
      firstTokenAtMs: ms('2026-01-01T00:00:00.550Z'),
      completedAt: '2026-01-01T00:00:01.400Z',
    }, '2026-01-01T00:00:01.400Z'),
    event(5, 'StepRequested', { stepId: 'step-2', stepIndex: 2, requestedAt: '2026-01-01T00:00:01.500Z' }, '2026-01-01T00:00:01.500Z'),
    event(6, 'StepFailed', { stepId: 'step-2', stepIndex: 2, stopReason: 'llm_api_error', errorType: 'llm_error', message: 'fake 500', attempts: 3, failedAt: '2026-01-01T00:00:02.000Z' }, '2026-01-01T00:00:02.000Z'),
    event(7, 'RunFinished', { status: 'failed', stopReason: 'llm_api_error', error: 'fake 500', completedAt: '2026-01-01T00:00:02.100Z' }, '2026-01-01T00:00:02.100Z'),
    event(8, 'CallbackAttempted', { attempt: 1, sentAt: '2026-01-01T00:00:02.200Z', statusCode: 200, error: null, final: true }, '2026-01-01T00:00:02.250Z'),
  ];
}

describe('runTimeline', () => {
  it('tells a run as one entry per happening: input approvals, queueing, steps with their timings, tools, the end and each callback attempt', () => {
    const entries = runTimeline(toolRun(), 'run-0');
    expect(entries.map((entry) => entry.type)).toEqual(['created', 'approval', 'queued', 'started', 'step', 'tool_call', 'tool_return', 'memory_edit', 'memory_edit', 'step', 'finished', 'callback']);
    // Which step changed which block, by which call, and the block's version after it.
    expect(entries.splice(7, 2)).toEqual([
      { type: 'memory_edit', at: '2026-01-01T00:00:01.400Z', step_id: 'step-1', tool_call_id: 'call_1', label: 'human', block_id: 'block-1', operation: 'insert', version: 7 },
      { type: 'memory_edit', at: '2026-01-01T00:00:01.400Z', step_id: 'step-1', tool_call_id: null, label: 'persona', block_id: null, operation: 'rethink', version: null },
    ]);
    expect(entries[1]).toEqual({ type: 'approval', at: '2026-01-01T00:00:00.000Z', tool_call_id: 'call_0', approve: false, reason: 'no' });
    expect(entries[2]).toEqual({ type: 'queued', at: '2026-01-01T00:00:00.000Z', waited_ms: 300, behind_run_id: 'run-0' });
    expect(entries[4]).toMatchObject({ status: 'completed', duration_ms: 1000, ttft_ms: 100, model: 'openai/gpt-4o-mini', usage: { total_tokens: 12 } });
    expect(entries[5]).toMatchObject({ at: '2026-01-01T00:00:01.400Z', name: 'memory_insert', arguments: '{"label":"human"}', needs_approval: false, step_id: 'step-1' });
    expect(entries[6]).toMatchObject({ tool_call_id: 'call_1', status: 'success', result: 'ok' });
    expect(entries[7]).toMatchObject({ status: 'failed', duration_ms: 500, error: { type: 'llm_error', message: 'fake 500', attempts: 3 } });
    expect(entries[8]).toMatchObject({ status: 'failed', stop_reason: 'llm_api_error', error: 'fake 500' });
    expect(entries[9]).toEqual({ type: 'callback', at: '2026-01-01T00:00:02.200Z', attempt: 1, status_code: 200, error: null, latency_ms: 50, final: true });
  });

  it('shows a step still running, and no queue entry when the run waited behind nothing', () => {
    const entries = runTimeline(toolRun().slice(0, 3));
    expect(entries.map((entry) => entry.type)).toEqual(['created', 'approval', 'started', 'step']);
    expect(entries[3]).toMatchObject({ status: 'running', duration_ms: null, ttft_ms: null, usage: null });
  });
});
