import { buildRunEvent, type LettaMessage, type MessageType, type RunCreatedData, type RunRequestConfig } from '@lrs/contracts';
import { filterMessageTypes, isoUtc, runViewFromCreated, toRunView, type RunRow } from './wire-format';

const REQUEST_CONFIG: RunRequestConfig = {
  use_assistant_message: true,
  assistant_message_tool_name: 'send_message',
  assistant_message_tool_kwarg: 'message',
  include_return_message_types: null,
};

describe('isoUtc', () => {
  it('passes null through', () => {
    expect(isoUtc(null)).toBeNull();
  });

  it('formats a Date in UTC with an explicit +00:00 offset and milliseconds', () => {
    expect(isoUtc(new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 67)))).toBe('2025-01-02T03:04:05.067+00:00');
  });

  it('normalizes a string with another offset to UTC', () => {
    expect(isoUtc('2025-01-02T05:04:05.000+02:00')).toBe('2025-01-02T03:04:05.000+00:00');
  });

  it('accepts a Z string', () => {
    expect(isoUtc('2025-01-02T03:04:05Z')).toBe('2025-01-02T03:04:05.000+00:00');
  });
});

function row(overrides: Partial<RunRow> = {}): RunRow {
  return {
    id: 'run-1',
    organization_id: 'org-1',
    agent_id: 'agent-1',
    conversation_id: null,
    status: 'completed',
    stop_reason: 'end_turn',
    background: true,
    metadata: { k: 'v' },
    request_config: REQUEST_CONFIG,
    callback_url: 'https://example.com/hook',
    callback_sent_at: new Date('2025-01-01T00:00:03.000Z'),
    callback_status_code: 204,
    callback_error: null,
    created_at: new Date('2025-01-01T00:00:00.000Z'),
    completed_at: new Date('2025-01-01T00:00:02.500Z'),
    ttft_ns: '123456789',
    total_duration_ns: '2500000000',
    override_model: null,
    client_tools: null,
    resolve_approvals_only: false,
    approval_timeout_seconds: null,
    max_steps: 10,
    version: 7,
    ...overrides,
  };
}

describe('toRunView', () => {
  it('renders a finished run row as Letta shows it', () => {
    expect(toRunView(row())).toEqual({
      id: 'run-1',
      status: 'completed',
      created_at: '2025-01-01T00:00:00.000+00:00',
      completed_at: '2025-01-01T00:00:02.500+00:00',
      agent_id: 'agent-1',
      conversation_id: null,
      base_template_id: null,
      background: true,
      metadata: { k: 'v' },
      request_config: REQUEST_CONFIG,
      stop_reason: 'end_turn',
      callback_url: 'https://example.com/hook',
      callback_sent_at: '2025-01-01T00:00:03.000+00:00',
      callback_status_code: 204,
      callback_error: null,
      ttft_ns: 123456789,
      total_duration_ns: 2500000000,
    });
  });

  it('turns bigint strings into numbers', () => {
    const view = toRunView(row({ ttft_ns: '0', total_duration_ns: '9007199254740991' }));
    expect(view.ttft_ns).toBe(0);
    expect(view.total_duration_ns).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('keeps nulls for an unfinished run', () => {
    const view = toRunView(
      row({
        status: 'running',
        stop_reason: null,
        completed_at: null,
        callback_sent_at: null,
        callback_status_code: null,
        ttft_ns: null,
        total_duration_ns: null,
      }),
    );
    expect(view).toMatchObject({
      status: 'running',
      stop_reason: null,
      completed_at: null,
      callback_sent_at: null,
      callback_status_code: null,
      ttft_ns: null,
      total_duration_ns: null,
    });
  });

  it('does not expose internal columns', () => {
    const view = toRunView(row());
    for (const key of ['organization_id', 'override_model', 'max_steps', 'version']) expect(view).not.toHaveProperty(key);
  });
});

describe('filterMessageTypes', () => {
  const base = { date: '', name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: null };
  const messages: LettaMessage[] = [
    { ...base, id: 'm1', message_type: 'user_message', content: 'hi' },
    { ...base, id: 'm2', message_type: 'reasoning_message', source: 'reasoner_model', reasoning: 'hmm', signature: null },
    { ...base, id: 'm3', message_type: 'assistant_message', content: 'hello' },
    { ...base, id: 'm4', message_type: 'system_message', content: 'sys' },
  ];

  it.each([null, undefined, []] as (MessageType[] | null | undefined)[])('returns everything for %p', (include) => {
    expect(filterMessageTypes(messages, include)).toBe(messages);
  });

  it('keeps only the listed types, in their original order', () => {
    expect(filterMessageTypes(messages, ['system_message', 'user_message']).map((m) => m.id)).toEqual(['m1', 'm4']);
  });

  it('returns nothing when no message has a listed type', () => {
    expect(filterMessageTypes(messages, ['tool_call_message'])).toEqual([]);
  });
});

describe('runViewFromCreated', () => {
  const data: RunCreatedData = {
    conversationId: 'conv-1',
    background: false,
    createdAt: '2025-02-03T04:05:06.789Z',
    maxSteps: 3,
    callbackUrl: 'https://example.com/cb',
    overrideModel: 'openai/gpt-4o',
    clientTools: null,
    includeReturnMessageTypes: null,
    metadata: { source: 'test' },
    requestConfig: REQUEST_CONFIG,
    input: [],
  };
  const created = buildRunEvent(
    { runId: 'run-9', seq: 1, organizationId: 'org-1', agentId: 'agent-9', laneId: 'agent-9' },
    'RunCreated',
    data,
  );

  it('renders a just-created run from its event', () => {
    expect(runViewFromCreated(created)).toEqual({
      id: 'run-9',
      status: 'created',
      created_at: '2025-02-03T04:05:06.789+00:00',
      completed_at: null,
      agent_id: 'agent-9',
      conversation_id: 'conv-1',
      base_template_id: null,
      background: false,
      metadata: { source: 'test' },
      request_config: REQUEST_CONFIG,
      stop_reason: null,
      callback_url: 'https://example.com/cb',
      callback_sent_at: null,
      callback_status_code: null,
      callback_error: null,
      ttft_ns: null,
      total_duration_ns: null,
    });
  });
});
