import { buildRunEvent, type AnyRunEvent, type LettaMessage, type RunEventDataMap, type RunEventType } from '@lrs/contracts';
import { RunStreamProjector, type StreamChunk } from './stream-chunks';

const base = { runId: 'run-1', organizationId: 'org', agentId: 'agent-1', laneId: 'agent-1' };
let seq = 0;
const event = <T extends RunEventType>(type: T, data: Partial<RunEventDataMap[T]>) =>
  buildRunEvent({ ...base, seq: ++seq }, type, data as RunEventDataMap[T], '2026-01-01T00:00:00.000Z') as AnyRunEvent;
const message = (id: string, type: 'assistant_message' | 'tool_call_message'): LettaMessage =>
  ({ id, message_type: type, date: 'd', name: null, otid: null, sender_id: null, step_id: 's', is_err: null, seq_id: null, run_id: 'run-1' }) as LettaMessage;
const step = (messages: LettaMessage[], total: number) =>
  event('StepCompleted', { messages, usage: { prompt_tokens: total - 1, completion_tokens: 1, total_tokens: total } });

function play(projector: RunStreamProjector, events: AnyRunEvent[]): StreamChunk[] {
  return events.flatMap((e) => projector.chunksFor(e));
}

describe('RunStreamProjector', () => {
  it('numbers ping, messages, stop_reason and usage 1, 2, 3, ... and ends with [DONE]', () => {
    const chunks = play(new RunStreamProjector('run-1', null, 'ping-1'), [
      event('RunCreated', {}),
      event('RunStarted', {}),
      step([message('m1', 'tool_call_message')], 10),
      step([message('m2', 'assistant_message')], 30),
      event('RunFinished', { status: 'completed', stopReason: 'end_turn', error: null }),
    ]);
    expect(chunks.map((c) => (c.kind === 'done' ? 'done' : c.seqId))).toEqual([1, 2, 3, 4, 5, 'done']);
    const usage = chunks[4];
    expect(usage.kind === 'data' && usage.payload).toMatchObject({ message_type: 'usage_statistics', total_tokens: 40, step_count: 2, context_tokens: 30 });
  });

  it('is deterministic, so a replay gives the same chunks', () => {
    seq = 0;
    const events = [event('RunCreated', {}), step([message('m1', 'assistant_message')], 5), event('RunFinished', { status: 'completed', stopReason: 'end_turn', error: null })];
    expect(play(new RunStreamProjector('run-1', null, 'ping-1'), events)).toEqual(play(new RunStreamProjector('run-1', null, 'ping-1'), events));
  });

  it('filters message types before numbering', () => {
    const chunks = play(new RunStreamProjector('run-1', ['assistant_message'], 'ping-1'), [
      event('RunCreated', {}),
      step([message('m1', 'tool_call_message'), message('m2', 'assistant_message')], 5),
    ]);
    expect(chunks.map((c) => c.kind === 'data' && c.payload.message_type)).toEqual(['ping', 'assistant_message']);
    expect(chunks.map((c) => c.kind !== 'done' && c.seqId)).toEqual([1, 2]);
  });

  it('ends a failed run with stop_reason and an error chunk, a cancelled one without usage', () => {
    const failed = play(new RunStreamProjector('run-1', null, 'p'), [
      event('RunCreated', {}),
      event('RunFinished', { status: 'failed', stopReason: 'llm_api_error', error: 'llm_rate_limit: slow down' }),
    ]);
    expect(failed.map((c) => c.kind)).toEqual(['data', 'data', 'error', 'done']);
    expect(failed[2].kind === 'error' && failed[2].payload).toMatchObject({ error_type: 'llm_rate_limit', message: 'slow down', seq_id: 3 });
    const cancelled = play(new RunStreamProjector('run-1', null, 'p'), [event('RunCreated', {}), event('RunFinished', { status: 'cancelled', stopReason: 'cancelled', error: null })]);
    expect(cancelled.map((c) => (c.kind === 'data' ? c.payload.message_type : c.kind))).toEqual(['ping', 'stop_reason', 'done']);
  });

  it('keep-alive pings repeat the last seq_id and nothing follows the end', () => {
    const projector = new RunStreamProjector('run-1', null, 'p');
    play(projector, [event('RunCreated', {}), step([message('m1', 'assistant_message')], 5)]);
    expect(projector.keepAlive(new Date('2026-01-01T00:00:00Z'))).toMatchObject({ message_type: 'ping', seq_id: 2, date: '2026-01-01T00:00:00.000+00:00' });
    play(projector, [event('RunFinished', { status: 'completed', stopReason: 'end_turn', error: null })]);
    expect(projector.done).toBe(true);
    expect(projector.chunksFor(event('CallbackAttempted', {}))).toEqual([]);
  });
});
