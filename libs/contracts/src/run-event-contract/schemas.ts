import { MESSAGE_TYPES, RUN_STATUSES, STOP_REASONS } from '../letta-wire';
import { RUN_EVENT_SCHEMA_VERSION, RUN_EVENT_TYPES, type RunEventType } from '../run-events';

/**
 * JSON Schemas (draft-07, which AsyncAPI's schema format extends) of the run events at
 * RUN_EVENT_SCHEMA_VERSION: what every decoder checks after upcasting, and what docs/asyncapi.yaml
 * publishes (a test keeps the two equal). Objects allow properties they do not name, so a field
 * added later as optional is not a breaking change for an older reader (docs/events.md).
 */
export type JsonSchema = { [keyword: string]: unknown };

const string: JsonSchema = { type: 'string' };
const nonEmptyString: JsonSchema = { type: 'string', minLength: 1 };
const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
const integer: JsonSchema = { type: 'integer' };
const positiveInteger: JsonSchema = { type: 'integer', minimum: 1 };
const boolean: JsonSchema = { type: 'boolean' };
const stringArray: JsonSchema = { type: 'array', items: string };

function nullable(schema: JsonSchema): JsonSchema {
  return { anyOf: [schema, { type: 'null' }] };
}

/** An object whose `required` properties must be present and whose `optional` ones are typed when present. */
function object(required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    required: Object.keys(required),
    properties: { ...required, ...optional },
  };
}

const stopReason: JsonSchema = { type: 'string', enum: [...STOP_REASONS] };
const messageType: JsonSchema = { type: 'string', enum: [...MESSAGE_TYPES] };

const toolCall = object({ name: string, arguments: string, tool_call_id: string });
const toolReturn = object(
  { type: { const: 'tool' }, tool_call_id: string, tool_return: string, status: { enum: ['success', 'error'] } },
  { stdout: nullable(stringArray), stderr: nullable(stringArray) },
);
const textPart = object({ type: { const: 'text' }, text: string }, { signature: nullable(string) });
const imagePart = object({ type: { const: 'image' }, source: object({ type: { enum: ['url', 'base64', 'letta'] } }) });
const content: JsonSchema = { anyOf: [string, { type: 'array', items: { anyOf: [textPart, imagePart] } }] };
const compactionStats = object({
  trigger: string,
  context_tokens_before: integer,
  context_tokens_after: integer,
  context_window: integer,
  messages_count_before: integer,
  messages_count_after: integer,
});

const messageBase: Record<string, JsonSchema> = {
  name: nullable(string),
  otid: nullable(string),
  sender_id: nullable(string),
  step_id: nullable(string),
  is_err: nullable(boolean),
  seq_id: nullable(integer),
  run_id: nullable(string),
};

function message(type: (typeof MESSAGE_TYPES)[number], required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}): JsonSchema {
  return object({ id: nonEmptyString, date: string, message_type: { const: type }, ...required }, { ...messageBase, ...optional });
}

/** A message in Letta's wire format (`LettaMessage` in libs/contracts/src/letta-wire.ts). */
export const LETTA_MESSAGE_SCHEMA: JsonSchema = {
  title: 'LettaMessage',
  oneOf: [
    message('system_message', { content: string }),
    message('user_message', { content }),
    message('assistant_message', { content }),
    message('reasoning_message', { reasoning: string }, { source: { enum: ['reasoner_model', 'non_reasoner_model'] }, signature: nullable(string) }),
    message('hidden_reasoning_message', { state: { enum: ['redacted', 'omitted'] } }, { hidden_reasoning: nullable(string) }),
    message('tool_call_message', { tool_call: toolCall }, { tool_calls: { type: 'array', items: toolCall } }),
    message(
      'tool_return_message',
      { tool_return: string, status: { enum: ['success', 'error'] }, tool_call_id: string },
      { stdout: nullable(stringArray), stderr: nullable(stringArray), tool_returns: { type: 'array', items: toolReturn } },
    ),
    message('approval_request_message', { tool_call: toolCall }, { tool_calls: { type: 'array', items: toolCall } }),
    message(
      'approval_response_message',
      { approvals: { type: 'array', items: { anyOf: [object({ type: { const: 'approval' }, tool_call_id: string, approve: boolean }, { reason: nullable(string) }), toolReturn] } } },
      { approve: nullable(boolean), approval_request_id: nullable(string), reason: nullable(string) },
    ),
    message('summary_message', { summary: string }, { compaction_stats: nullable(compactionStats) }),
    message('event_message', { event_type: { const: 'compaction' }, event_data: object({ trigger: string, context_token_estimate: integer, context_window: integer }) }),
  ],
};

/** Stream sequence of the run's RunCreated, carried along so a reader finds it with one direct get. */
const createdStreamSeq: JsonSchema = { type: 'integer', minimum: 1, description: "Stream sequence of the run's RunCreated in RUN_EVENTS (absent on events written before it was carried)." };

const blockEditOperation: JsonSchema = {
  oneOf: [
    object({ kind: { const: 'insert' }, newStr: string, insertLine: integer }),
    object({ kind: { const: 'replace' }, oldStr: string, newStr: string }),
    object({ kind: { const: 'rethink' }, newValue: string }),
  ],
};
const memoryEdit = object(
  { label: string, value: string },
  { id: nonEmptyString, toolCallId: string, operation: blockEditOperation, blockId: string, version: integer },
  "A change to a memory block: the operation, applied to the block as it was when the step committed, and the block's value and version after it.",
);
const blockChange = object(
  {
    id: nonEmptyString,
    operation: {
      oneOf: [
        object({ kind: { const: 'create' }, blockId: nonEmptyString, label: nonEmptyString, value: string, description: nullable(string), limit: positiveInteger }),
        object({ kind: { const: 'delete' }, blockId: nonEmptyString, label: string }),
        object({ kind: { const: 'rename' }, blockId: nonEmptyString, label: string, newLabel: nonEmptyString }),
        object({ kind: { const: 'describe' }, blockId: nonEmptyString, label: string, description: string }),
      ],
    },
  },
  { toolCallId: string },
  "A block the step created, detached from its agent (delete), renamed or described (Letta's memory tool), committed with the step exactly once by its id.",
);
const tokenUsage = object({ prompt_tokens: integer, completion_tokens: integer, total_tokens: integer }, { reasoning_tokens: integer });

/** The payload (`data`) of each event type, as RunEventDataMap in run-events.ts declares it. */
export const RUN_EVENT_DATA_SCHEMAS: Record<RunEventType, JsonSchema> = {
  RunCreated: object(
    {
      conversationId: nullable(string),
      background: boolean,
      createdAt: dateTime,
      maxSteps: positiveInteger,
      callbackUrl: nullable(string),
      overrideModel: nullable(string),
      clientTools: nullable({ type: 'array', items: object({ name: string }, { description: nullable(string), parameters: nullable({ type: 'object' }) }) }),
      includeReturnMessageTypes: nullable({ type: 'array', items: messageType }),
      metadata: { type: 'object' },
      requestConfig: object(
        { use_assistant_message: boolean, assistant_message_tool_name: string, assistant_message_tool_kwarg: string },
        { include_return_message_types: nullable({ type: 'array', items: messageType }) },
      ),
      input: { type: 'array', items: LETTA_MESSAGE_SCHEMA, description: "The request's messages, rendered as Letta messages with ids and otids." },
      approvalTimeoutSeconds: { ...nullable(positiveInteger), description: 'When the run pauses for approval, deny the pending calls after this long (null: wait). Added in version 2.' },
    },
    { resolveApprovalsOnly: boolean, includeCompactionMessages: boolean },
    'A run was accepted: the request as the gateway rendered it.',
  ),
  RunStarted: object({ startedAt: dateTime, maxSteps: positiveInteger }, { createdStreamSeq }, 'The run got its lane and starts its first step.'),
  StepRequested: object(
    { stepId: nonEmptyString, stepIndex: positiveInteger, maxSteps: positiveInteger, requestedAt: dateTime },
    { createdStreamSeq },
    'A model call is wanted (stepIndex is 1-based).',
  ),
  StepCompleted: object(
    {
      stepId: nonEmptyString,
      stepIndex: positiveInteger,
      maxSteps: positiveInteger,
      model: string,
      modelHandle: string,
      messages: { type: 'array', items: LETTA_MESSAGE_SCHEMA },
      usage: tokenUsage,
      continueLoop: boolean,
      stopReason: nullable(stopReason),
      firstTokenAtMs: nullable({ type: 'number' }),
      llmRequestStartedAtMs: { type: 'number' },
      completedAt: dateTime,
    },
    {
      memoryEdits: { type: 'array', items: memoryEdit },
      archivalInserts: {
        type: 'array',
        items: object({ id: nonEmptyString, text: string, tags: stringArray, createdAt: dateTime }, { toolCallId: string }, 'A passage the step stored in archival memory.'),
      },
      blockChanges: { type: 'array', items: blockChange },
      approvalTimeoutSeconds: nullable(positiveInteger),
      createdStreamSeq,
      compaction: nullable(object({ summaryMessageId: string, summary: string, stats: compactionStats })),
    },
    "A model call and its tools ran; the messages it produced are in the agent's thread.",
  ),
  StepFailed: object(
    { stepId: nonEmptyString, stepIndex: positiveInteger, stopReason, errorType: string, message: string, attempts: integer, failedAt: dateTime },
    { createdStreamSeq },
    'A step could not complete (the run then finishes failed).',
  ),
  RunFinished: object(
    {
      status: { type: 'string', enum: RUN_STATUSES.filter((status) => status !== 'created' && status !== 'running') },
      stopReason,
      completedAt: dateTime,
      error: nullable(string),
    },
    { approvalTimeout: nullable(object({ seconds: positiveInteger, toolCallIds: stringArray })), createdStreamSeq },
    "The run reached its terminal state (or paused for approval: stopReason requires_approval); the run's last state-changing event.",
  ),
  CallbackAttempted: object(
    { attempt: positiveInteger, sentAt: dateTime, statusCode: nullable(integer), error: nullable(string), final: boolean },
    {},
    "One delivery attempt of the run's callback_url; final is true when no further attempt will be made.",
  ),
  RunDeleted: object({ deletedAt: dateTime }, {}, 'The run was deleted through the API: it leaves the read model, its events stay in the log.'),
};

/** A claim check: the event's data is in the RUN_PAYLOADS object store under `name` (docs/events.md). */
export const PAYLOAD_CLAIM_SCHEMA: JsonSchema = object(
  { name: nonEmptyString, size: { type: 'integer', minimum: 0 }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
  {},
  'Where the data of an event too large for a NATS message is kept: an object of the run-payloads object store, with its size and SHA-256.',
);

/**
 * The envelope every run event message carries, whatever its version: `data` holds the payload,
 * or is null when `claim` says where it is stored.
 */
export const RUN_EVENT_ENVELOPE_SCHEMA: JsonSchema = {
  ...object({
    id: nonEmptyString,
    type: { type: 'string', enum: [...RUN_EVENT_TYPES] },
    version: positiveInteger,
    runId: nonEmptyString,
    seq: positiveInteger,
    occurredAt: dateTime,
    organizationId: nonEmptyString,
    agentId: nonEmptyString,
    laneId: nonEmptyString,
    traceparent: nullable(string),
    data: { type: ['object', 'null'] },
  }, { claim: PAYLOAD_CLAIM_SCHEMA }),
  // Either the data is here, or a claim says where it is.
  oneOf: [
    { properties: { data: { type: 'object' } }, not: { required: ['claim'] } },
    { properties: { data: { type: 'null' } }, required: ['claim'] },
  ],
};

/**
 * A message of one event type as RUN_EVENTS stores it at the current version: the envelope with
 * this type, its data inline or null with a claim on it. docs/asyncapi.yaml publishes one per type.
 */
export function runEventMessageSchema(type: RunEventType): JsonSchema {
  const properties = RUN_EVENT_ENVELOPE_SCHEMA['properties'] as Record<string, JsonSchema>;
  return {
    ...RUN_EVENT_ENVELOPE_SCHEMA,
    title: `${type}Event`,
    properties: {
      ...properties,
      type: { const: type },
      version: { const: RUN_EVENT_SCHEMA_VERSION, description: 'Schema version of the payload; see docs/events.md, "Versioning".' },
      data: { ...nullable(RUN_EVENT_DATA_SCHEMAS[type]), description: 'The payload; null when claim is set.' },
    },
  };
}
