import {
  DLQ_STREAM,
  EVENT_DIGEST_HEADER,
  EVENT_TYPE_HEADER,
  IDEMPOTENCY_KEYS_BUCKET,
  LETTA_MESSAGE_SCHEMA,
  PAYLOAD_CLAIM_SCHEMA,
  RUN_EVENTS_STREAM,
  RUN_EVENT_EXAMPLES,
  RUN_EVENT_TYPES,
  RUN_LANES_BUCKET,
  RUN_PAYLOADS_BUCKET,
  RUN_TIMERS_STREAM,
  SERVER_VERSION,
  TRACEPARENT_HEADER,
  runEventMessageSchema,
  type JsonSchema,
  type RunEventType,
} from '@lrs/contracts';

/** Sub-schemas written once under components.schemas and referenced where the contract reuses them. */
const SHARED_SCHEMAS: Record<string, JsonSchema> = { LettaMessage: LETTA_MESSAGE_SCHEMA, PayloadClaim: PAYLOAD_CLAIM_SCHEMA };

/** The schema with every shared sub-schema (the same object in the contract) replaced by a $ref to it. */
function referencingShared(schema: unknown): unknown {
  const shared = Object.entries(SHARED_SCHEMAS).find(([, value]) => value === schema);
  if (shared) return { $ref: `#/components/schemas/${shared[0]}` };
  if (Array.isArray(schema)) return schema.map(referencingShared);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, referencingShared(value)]));
}

function headersOf(type: RunEventType): JsonSchema {
  return {
    type: 'object',
    required: ['Nats-Msg-Id', EVENT_TYPE_HEADER],
    properties: {
      'Nats-Msg-Id': {
        type: 'string',
        description:
          "The event's id (equal to the payload's id): `evt:<runId>:<seq>`, the run's position. JetStream drops a second publish with an id it saw within the stream's duplicate window (20 seconds), so a retried append is stored once and only one writer can take a position; a subscriber that needs exactly-once effects dedupes on it.",
      },
      [EVENT_TYPE_HEADER]: { const: type, description: 'The event type, so a subscriber can skip events it does not want without parsing them.' },
      [EVENT_DIGEST_HEADER]: {
        type: 'string',
        description: "A digest of the event's type and data. Writers racing for one position of a run share its Nats-Msg-Id; the digest tells a writer whether the stored event is its own. Subscribers can ignore it.",
      },
      [TRACEPARENT_HEADER]: { type: 'string', description: 'W3C trace context of the request that created the run, when it carried one (also in the payload).' },
      'Nats-Expected-Last-Subject-Sequence': {
        type: 'string',
        description: "Set by the writer: the append is conditional on the run's latest event (optimistic concurrency, docs/run-path.md). Subscribers can ignore it.",
      },
    },
  };
}

const eventSummaries: Record<RunEventType, string> = {
  RunCreated: 'A run was accepted.',
  RunStarted: 'The run left its queue and started.',
  StepRequested: 'A model call of the run is wanted.',
  StepCompleted: 'A model call and its tools ran.',
  StepFailed: 'A step failed for good.',
  RunFinished: 'The run ended, or paused for approval.',
  CallbackAttempted: "One delivery attempt of the run's callback.",
  RunDeleted: 'The run was deleted through the API.',
};

const internal = [{ name: 'internal', description: 'Between the services only: no compatibility promise, and the reader user cannot see it.' }];

function internalChannel(address: string, description: string): JsonSchema {
  return { address, description, tags: internal };
}

/**
 * The AsyncAPI 3 document of the events (docs/asyncapi.yaml), built from the contracts so the
 * two cannot drift: `npm run asyncapi` writes it, and a test checks the file equals this.
 */
export function asyncApiDocument(): JsonSchema {
  const messages = Object.fromEntries(
    RUN_EVENT_TYPES.map((type) => [
      type,
      {
        name: type,
        title: type,
        summary: eventSummaries[type],
        contentType: 'application/json',
        headers: headersOf(type),
        payload: { $ref: `#/components/schemas/${type}Event` },
        examples: [{ name: type, headers: { 'Nats-Msg-Id': RUN_EVENT_EXAMPLES[type].id, [EVENT_TYPE_HEADER]: type }, payload: RUN_EVENT_EXAMPLES[type] }],
      },
    ]),
  );
  const messageRefs = Object.fromEntries(RUN_EVENT_TYPES.map((type) => [type, { $ref: `#/components/messages/${type}` }]));
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'letta-jetstream-server run events',
      version: SERVER_VERSION,
      description: [
        'The run events of letta-jetstream-server, for subscribers on NATS JetStream. Every event of a run is one message on the subject `runs.<runId>` of the stream',
        `${RUN_EVENTS_STREAM}, in the run's order. docs/events.md explains ordering, deduplication, retention, durable consumers, versioning and claim checks.`,
        'Generated from libs/contracts by `npm run asyncapi`; do not edit by hand.',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      nats: { host: 'localhost:4222', protocol: 'nats', description: 'A NATS server with JetStream (NATS_URL of the deployment).' },
    },
    channels: {
      runEvents: {
        address: 'runs.{runId}',
        title: 'Run events',
        description: `The event log: stream ${RUN_EVENTS_STREAM} (subjects runs.>). One subject per run, events in the run's order (payload seq 1, 2, 3, ... without gaps).`,
        parameters: { runId: { description: 'The run id, `run-<uuid>`.' } },
        messages: messageRefs,
      },
      runPayloads: {
        address: `$O.${RUN_PAYLOADS_BUCKET}.>`,
        title: 'Claimed payloads',
        description: `The object store ${RUN_PAYLOADS_BUCKET}: the data of an event too large for a NATS message, named by the event's claim (docs/events.md, "Large payloads"). Read it with a JetStream object store client; public for reading.`,
      },
      approvalTimers: internalChannel('timers.approval.{runId}', `Stream ${RUN_TIMERS_STREAM}: durable approval-timeout timers.`),
      deadLetters: internalChannel('dlq.{consumer}', `Stream ${DLQ_STREAM}: messages a consumer gave up on (npm run dlq).`),
      redrives: internalChannel('redrive.{consumer}', 'Requests of the DLQ command to hand a dead letter back to its consumer.'),
      tokenDeltas: internalChannel('deltas.{runId}', 'Core NATS: streamed model tokens of a run, for the gateway\'s streaming responses.'),
      cancelNotices: internalChannel('notices.run-cancelled', 'Core NATS: a run was cancelled; workers stop its model call.'),
      workerRequests: internalChannel('llm.{request}', 'Core NATS request/reply to the llm-workers (llm.compactions, llm.tool-runs).'),
      keyValueBuckets: internalChannel(
        '$KV.{bucket}.>',
        `JetStream KV buckets ${RUN_LANES_BUCKET} (per-lane queues) and ${IDEMPOTENCY_KEYS_BUCKET} (Idempotency-Key claims).`,
      ),
    },
    operations: {
      receiveRunEvents: {
        action: 'receive',
        title: 'Subscribe to run events',
        summary: `Read ${RUN_EVENTS_STREAM} through a durable pull consumer of your own (filter runs.> and, if you like, one event type by its header).`,
        channel: { $ref: '#/channels/runEvents' },
        messages: RUN_EVENT_TYPES.map((type) => ({ $ref: `#/channels/runEvents/messages/${type}` })),
      },
      appendRunEvents: {
        action: 'send',
        title: 'Append run events',
        summary: "The services append a run's events, each conditional on the run's latest one. Subscribers never publish here.",
        channel: { $ref: '#/channels/runEvents' },
        messages: RUN_EVENT_TYPES.map((type) => ({ $ref: `#/channels/runEvents/messages/${type}` })),
        tags: internal,
      },
    },
    components: {
      messages,
      schemas: {
        ...Object.fromEntries(RUN_EVENT_TYPES.map((type) => [`${type}Event`, referencingShared(runEventMessageSchema(type))])),
        LettaMessage: referencingShared({ ...LETTA_MESSAGE_SCHEMA, oneOf: LETTA_MESSAGE_SCHEMA['oneOf'] }),
        PayloadClaim: PAYLOAD_CLAIM_SCHEMA,
      },
    },
  };
}
