import { buildRunEvent, type RunEvent, type RunEventDataMap, type RunEventType } from '../run-events';

const RUN_ID = 'run-6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const AGENT_ID = 'agent-0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
const STEP_ID = 'step-1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e';
const BASE = { runId: RUN_ID, organizationId: 'org-00000000-0000-4000-8000-000000000000', agentId: AGENT_ID, laneId: AGENT_ID, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };

function example<T extends RunEventType>(seq: number, type: T, data: RunEventDataMap[T]): RunEvent<T> {
  return buildRunEvent({ ...BASE, seq }, type, data, `2026-01-01T00:00:0${seq}.000Z`);
}

const message = { name: null, sender_id: null, is_err: null, seq_id: null, run_id: RUN_ID };

/**
 * One event of each type as a run appends it, at the current version: the examples of
 * docs/asyncapi.yaml, and fixtures that the contract's tests decode.
 */
export const RUN_EVENT_EXAMPLES: { [K in RunEventType]: RunEvent<K> } = {
  RunCreated: example(1, 'RunCreated', {
    conversationId: null,
    background: true,
    createdAt: '2026-01-01T00:00:01.000Z',
    maxSteps: 50,
    callbackUrl: 'https://example.com/hook',
    overrideModel: null,
    clientTools: null,
    includeReturnMessageTypes: null,
    approvalTimeoutSeconds: null,
    metadata: { run_type: 'send_message_async', lettuce: false },
    requestConfig: { use_assistant_message: true, assistant_message_tool_name: 'send_message', assistant_message_tool_kwarg: 'message', include_return_message_types: null },
    input: [{ ...message, id: 'message-2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f', date: '2026-01-01T00:00:01.000Z', message_type: 'user_message', otid: null, step_id: null, content: 'hello' }],
  }),
  RunStarted: example(2, 'RunStarted', { startedAt: '2026-01-01T00:00:02.000Z', maxSteps: 50, createdStreamSeq: 41 }),
  StepRequested: example(3, 'StepRequested', { stepId: STEP_ID, stepIndex: 1, maxSteps: 50, requestedAt: '2026-01-01T00:00:03.000Z', createdStreamSeq: 41 }),
  StepCompleted: example(4, 'StepCompleted', {
    stepId: STEP_ID,
    stepIndex: 1,
    maxSteps: 50,
    model: 'gpt-4o-mini',
    modelHandle: 'openai/gpt-4o-mini',
    messages: [{ ...message, id: 'message-3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a', date: '2026-01-01T00:00:04.000Z', message_type: 'assistant_message', otid: null, step_id: STEP_ID, content: 'Hi! How can I help?' }],
    usage: { prompt_tokens: 812, completion_tokens: 9, total_tokens: 821 },
    continueLoop: false,
    stopReason: null,
    firstTokenAtMs: 1767225603412.5,
    llmRequestStartedAtMs: 1767225603105,
    completedAt: '2026-01-01T00:00:04.000Z',
    createdStreamSeq: 41,
  }),
  StepFailed: example(4, 'StepFailed', {
    stepId: STEP_ID,
    stepIndex: 1,
    stopReason: 'llm_api_error',
    errorType: 'APIConnectionError',
    message: 'Connection error.',
    attempts: 3,
    failedAt: '2026-01-01T00:00:04.000Z',
    createdStreamSeq: 41,
  }),
  RunFinished: example(5, 'RunFinished', { status: 'completed', stopReason: 'end_turn', completedAt: '2026-01-01T00:00:05.000Z', error: null, createdStreamSeq: 41 }),
  CallbackAttempted: example(6, 'CallbackAttempted', { attempt: 1, sentAt: '2026-01-01T00:00:06.000Z', statusCode: 200, error: null, final: true }),
  RunDeleted: example(7, 'RunDeleted', { deletedAt: '2026-01-01T00:00:07.000Z' }),
};
