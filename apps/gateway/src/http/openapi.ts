import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { MESSAGE_TYPES, RUN_STATUSES, SERVER_VERSION, STOP_REASONS } from '@lrs/contracts';
import { RUN_TIMELINE_ENTRY_TYPES } from '@lrs/domain-run';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Record<string, unknown>) => ({ ...schema, nullable: true });
const str = { type: 'string' };
const int = { type: 'integer' };
const messageBase = {
  id: str,
  date: { type: 'string', format: 'date-time' },
  name: nullable(str),
  otid: nullable(str),
  sender_id: nullable(str),
  step_id: nullable(str),
  is_err: nullable({ type: 'boolean' }),
  seq_id: nullable(int),
  run_id: nullable(str),
  message_type: { type: 'string', enum: [...MESSAGE_TYPES] },
};
const toolCall = { type: 'object', properties: { name: str, arguments: str, tool_call_id: str } };

/** Response shapes (the request shapes come from the DTOs' validation rules). */
const RESPONSE_SCHEMAS: Record<string, Record<string, unknown>> = {
  Error: { type: 'object', properties: { detail: { oneOf: [str, { type: 'object' }] } }, required: ['detail'] },
  Run: {
    type: 'object',
    properties: {
      id: str,
      status: { type: 'string', enum: [...RUN_STATUSES] },
      created_at: { type: 'string', format: 'date-time' },
      completed_at: nullable({ type: 'string', format: 'date-time' }),
      agent_id: str,
      conversation_id: nullable(str),
      base_template_id: nullable(str),
      background: { type: 'boolean' },
      metadata: { type: 'object', additionalProperties: true },
      request_config: { type: 'object', additionalProperties: true },
      stop_reason: nullable({ type: 'string', enum: [...STOP_REASONS] }),
      callback_url: nullable(str),
      callback_sent_at: nullable({ type: 'string', format: 'date-time' }),
      callback_status_code: nullable(int),
      callback_error: nullable(str),
      ttft_ns: nullable(int),
      total_duration_ns: nullable(int),
      usage: ref('RunUsage'),
    },
  },
  RunUsage: { type: 'object', properties: { prompt_tokens: int, completion_tokens: int, total_tokens: int, step_count: int } },
  RunTimeline: {
    type: 'object',
    properties: {
      run_id: str,
      entries: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: true,
          description: 'Discriminated by type; the other fields depend on it.',
          properties: {
            type: { type: 'string', enum: [...RUN_TIMELINE_ENTRY_TYPES] },
            at: { type: 'string', format: 'date-time' },
          },
          required: ['type', 'at'],
        },
      },
    },
    required: ['run_id', 'entries'],
  },
  LettaMessage: {
    type: 'object',
    description: 'Discriminated by message_type; fields beyond the common ones depend on it.',
    properties: {
      ...messageBase,
      content: { oneOf: [str, { type: 'array', items: { type: 'object' } }] },
      reasoning: str,
      tool_call: toolCall,
      tool_calls: { type: 'array', items: toolCall },
      tool_return: str,
      status: { type: 'string', enum: ['success', 'error'] },
      tool_returns: { type: 'array', items: { type: 'object' } },
      approvals: { type: 'array', items: { type: 'object' } },
    },
    required: ['id', 'date', 'message_type'],
  },
  UsageStatistics: {
    type: 'object',
    properties: {
      message_type: { type: 'string', enum: ['usage_statistics'] },
      completion_tokens: int,
      prompt_tokens: int,
      total_tokens: int,
      step_count: int,
      context_tokens: nullable(int),
    },
  },
  LettaResponse: {
    type: 'object',
    properties: {
      messages: { type: 'array', items: ref('LettaMessage') },
      stop_reason: { type: 'object', properties: { message_type: { type: 'string', enum: ['stop_reason'] }, stop_reason: { type: 'string', enum: [...STOP_REASONS] } } },
      usage: ref('UsageStatistics'),
    },
  },
  Step: { type: 'object', additionalProperties: true, properties: { id: str, run_id: str, agent_id: str, status: str, model: nullable(str), prompt_tokens: nullable(int), completion_tokens: nullable(int), total_tokens: nullable(int), feedback: nullable({ type: 'string', enum: ['positive', 'negative'] }), tags: { type: 'array', items: str } } },
  Passage: { type: 'object', additionalProperties: true, properties: { id: str, text: str, archive_id: str, tags: { type: 'array', items: str }, embedding: nullable({ type: 'array', items: { type: 'number' } }), created_at: str, updated_at: str } },
  Archive: { type: 'object', additionalProperties: true, properties: { id: str, name: str, description: nullable(str), vector_db_provider: str, embedding_config: { type: 'object' }, created_at: str, updated_at: str } },
  ArchivalSearchResponse: { type: 'object', properties: { count: int, results: { type: 'array', items: { type: 'object', properties: { id: str, content: str, timestamp: str, tags: { type: 'array', items: str } } } } } },
  PassageSearchResult: { type: 'object', properties: { passage: ref('Passage'), score: { type: 'number' }, metadata: { type: 'object' } } },
  Usage: { type: 'object', properties: { completion_tokens: int, prompt_tokens: int, total_tokens: int } },
  StepMetrics: { type: 'object', additionalProperties: true, properties: { id: str, run_id: str, agent_id: str, step_start_ns: int, step_ns: nullable(int), llm_request_start_ns: nullable(int), llm_request_ns: nullable(int), tool_execution_ns: nullable(int), time_to_first_token_ns: nullable(int) } },
  ProviderTrace: { type: 'object', nullable: true, additionalProperties: true, description: "The model provider's raw request and response: always null here (none is kept)." },
  Tag: str,
  Model: { type: 'object', additionalProperties: true, properties: { handle: str, name: str, display_name: nullable(str), model: str, provider_name: nullable(str), provider_type: str, provider_category: nullable(str), model_endpoint_type: str, context_window: int, max_context_window: int, model_type: { type: 'string', enum: ['llm'] } }, required: ['name', 'model', 'provider_type', 'model_endpoint_type', 'context_window', 'max_context_window'] },
  EmbeddingModel: { type: 'object', additionalProperties: true, properties: { handle: str, name: str, display_name: str, embedding_model: str, provider_name: str, provider_type: str, embedding_endpoint_type: str, embedding_dim: int, model_type: { type: 'string', enum: ['embedding'] } }, required: ['name', 'display_name', 'embedding_model', 'provider_name', 'provider_type', 'embedding_endpoint_type', 'embedding_dim'] },
  MessageSearchResult: {
    type: 'object',
    description: "Letta's message list result: the message's text (`content`, or `reasoning`), owner and time.",
    properties: {
      message_id: str,
      message_type: { type: 'string', enum: ['system_message', 'user_message', 'reasoning_message', 'assistant_message'] },
      content: { oneOf: [str, { type: 'array', items: { type: 'object' } }] },
      reasoning: str,
      agent_id: nullable(str),
      conversation_id: nullable(str),
      created_at: { type: 'string', format: 'date-time' },
    },
    required: ['message_id', 'message_type', 'created_at'],
  },
  AgentState: { type: 'object', additionalProperties: true, properties: { id: str, name: str, system: str, agent_type: str, model: str, llm_config: { type: 'object' }, blocks: { type: 'array', items: { type: 'object' } }, tools: { type: 'array', items: { type: 'object' } }, tags: { type: 'array', items: str }, created_at: str, updated_at: str } },
  Conversation: { type: 'object', properties: { id: str, agent_id: str, summary: nullable(str), model: nullable(str), created_at: str, updated_at: str, last_message_at: nullable(str) } },
  Health: { type: 'object', properties: { version: str, status: { type: 'string', enum: ['ok'] } } },
  Metrics: { type: 'string', description: 'Prometheus text exposition format' },
  Deleted: { type: 'object', nullable: true, description: 'null, or a confirmation message' },
  Confirmation: { type: 'object', properties: { message: str }, description: 'What was done' },
  CancelResult: { type: 'object', additionalProperties: { type: 'string', enum: ['cancelled', 'failed'] }, description: 'run id -> outcome' },
  Block: { type: 'object', additionalProperties: true, properties: { id: str, label: str, value: str, limit: int, description: nullable(str), read_only: { type: 'boolean' } } },
  Tool: { type: 'object', additionalProperties: true, properties: { id: str, name: str, description: str, tool_type: str, json_schema: { type: 'object' } } },
  ToolSearchResult: { type: 'object', properties: { tool: ref('Tool'), combined_score: { type: 'number' }, embedded_text: nullable(str), fts_rank: nullable(int), vector_rank: nullable(int) } },
  ToolExecutionResult: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['success', 'error'] },
      func_return: { description: 'What the tool returned' },
      agent_state: ref('AgentState'),
      sandbox_config_fingerprint: nullable(str),
      stdout: { type: 'array', items: str },
      stderr: { type: 'array', items: str },
    },
  },
  CompiledSystemPrompt: { type: 'string', description: 'The system prompt, memory blocks compiled in, that the next model call gets.' },
  ContextWindowOverview: {
    type: 'object',
    additionalProperties: true,
    properties: {
      context_window_size_max: int,
      context_window_size_current: int,
      num_messages: int,
      num_tokens_system: int,
      num_tokens_core_memory: int,
      num_tokens_external_memory_summary: int,
      num_tokens_summary_memory: int,
      num_tokens_functions_definitions: int,
      num_tokens_messages: int,
      system_prompt: str,
      core_memory: str,
      summary_memory: nullable(str),
      messages: { type: 'array', items: ref('LettaMessage') },
    },
  },
  ApiKey: {
    type: 'object',
    properties: {
      id: str,
      key: { type: 'string', description: 'The secret: only in the answer that created it' },
      name: str,
      prefix: str,
      organization_id: str,
      organization: str,
      admin: { type: 'boolean' },
      created_at: str,
      last_used_at: nullable(str),
      revoked_at: nullable(str),
    },
  },
  CompactionResponse: { type: 'object', properties: { summary: str, num_messages_before: int, num_messages_after: int } },
  TraceSpans: { type: 'array', items: { type: 'object', additionalProperties: true }, description: "Spans of the run (run, steps, model calls, tool calls) from the run's event log." },
  AgentFile: { type: 'object', additionalProperties: true, description: "Letta's agent file (v2): agents, blocks, tools, messages with file-local ids." },
  ImportedAgents: { type: 'object', properties: { agent_ids: { type: 'array', items: str } } },
  ScheduledMessage: {
    type: 'object',
    additionalProperties: true,
    properties: {
      id: str,
      agent_id: str,
      message: { type: 'object', additionalProperties: true, properties: { messages: { type: 'array', items: { type: 'object' } }, callback_url: str, include_return_message_types: { type: 'array', items: str }, max_steps: int } },
      next_scheduled_time: nullable({ type: 'string', format: 'date-time' }),
      schedule: { type: 'object', description: "{type: 'one-time', scheduled_at: <Unix ms>} or {type: 'recurring', cron_expression}", properties: { type: { type: 'string', enum: ['one-time', 'recurring'] }, scheduled_at: int, cron_expression: str } },
    },
  },
  ScheduleCreated: { type: 'object', properties: { id: str, next_scheduled_at: { type: 'string', format: 'date-time' } } },
  ScheduledMessageList: { type: 'object', properties: { has_next_page: { type: 'boolean' }, scheduled_messages: { type: 'array', items: ref('ScheduledMessage') } } },
  ScheduleDeleted: { type: 'object', properties: { success: { type: 'boolean', enum: [true] } } },
  McpServer: {
    type: 'object',
    description: "Letta's StreamableHTTPMcpServer, SseMcpServer or StdioMcpServer; auth_token, custom_headers values and env values are masked",
    properties: {
      id: str,
      server_name: str,
      mcp_server_type: { type: 'string', enum: ['streamable_http', 'sse', 'stdio'] },
      server_url: nullable(str),
      auth_header: nullable(str),
      auth_token: nullable(str),
      custom_headers: nullable({ type: 'object', additionalProperties: str }),
      command: str,
      args: { type: 'array', items: str },
      env: nullable({ type: 'object', additionalProperties: str }),
    },
  },
  McpToolRefresh: {
    type: 'object',
    properties: {
      message: str,
      added: { type: 'array', items: str },
      updated: { type: 'array', items: str },
      deleted: { type: 'array', items: str },
      skipped: { type: 'array', items: { type: 'object', properties: { name: str, reason: str } } },
    },
  },
  SseStream: { type: 'string', description: 'text/event-stream: un-named `data:` events (ping, LettaMessage chunks, stop_reason, usage_statistics), `event: error` on failures, then `data: [DONE]`.' },
};

/** The OpenAPI document generated from the controllers, with request schemas from the DTOs' validation rules. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Letta-compatible agent run server')
    .setDescription("Letta's agents, messages, runs and conversations API, served by event-sourced services on NATS JetStream.")
    .setVersion(SERVER_VERSION)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const requestSchemas = validationMetadatasToSchemas({ refPointerPrefix: '#/components/schemas/' });
  document.components = { ...document.components, schemas: { ...document.components?.schemas, ...(requestSchemas as object), ...RESPONSE_SCHEMAS } };
  declareAuthenticationAndErrors(document);
  return replaceTypelessRefs(document) as OpenAPIObject;
}

/** Error answers by status, as every route words them: `{"detail": ...}` (README, "API implemented"). */
const ERROR_ANSWERS: Record<string, string> = {
  '400': 'Malformed JSON, a malformed id or cursor',
  '401': 'No API key, or an unknown or revoked one',
  '403': 'The key is not an admin key',
  '404': 'No such resource in the caller\'s organization',
  '409': 'Conflicts with the resource\'s state (a run in progress, a pending approval, a deleted run\'s otids or key)',
  '413': 'The request is larger than REQUEST_BODY_LIMIT',
  '422': 'Invalid request: the detail names the field',
  '429': 'The organization has the most runs in flight it may have; retry after Retry-After',
  '500': 'An unexpected failure; nothing internal is shown',
  '503': 'The event log or the database is unreachable, or the server is at capacity; retry after Retry-After',
  '504': 'No answer in time; the work goes on (a run) or nothing changed (a summary, a tool run)',
};

const RUN_CREATING = /\/(messages|messages\/async|messages\/stream)$/;
const AWAITS_A_WORKER = /\/(messages|summarize|compact|tools\/\{[^}]+\}\/run)$/;

/**
 * Every operation but the probes and health takes `Authorization: Bearer <key>` and declares the
 * errors it can answer, as JSON (stream routes too: their errors come before the stream starts).
 */
function declareAuthenticationAndErrors(document: OpenAPIObject): void {
  document.security = [{ bearer: [] }];
  const error = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object', properties: { detail: str }, required: ['detail'] } } } });
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, { responses?: Record<string, unknown>; security?: unknown[] }][]) {
      if (typeof operation !== 'object' || !operation?.responses) continue;
      if (path === '/v1/health' || path === '/livez' || path === '/readyz' || path === '/metrics') {
        operation.security = [];
        continue;
      }
      const codes = ['401', '422', '500'];
      if (path.includes('{')) codes.push('400', '404');
      if (method === 'post' || method === 'patch' || method === 'put') codes.push('400', '413', '409');
      if (path.startsWith('/v1/admin/')) codes.push('403');
      if (method === 'post' && RUN_CREATING.test(path)) codes.push('429', '503');
      if (method === 'post' && AWAITS_A_WORKER.test(path)) codes.push('503', '504');
      for (const code of new Set(codes)) operation.responses[code] ??= error(ERROR_ANSWERS[code]);
      // Errors are JSON whatever the route answers on success (an SSE stream starts only on success).
      for (const [code, response] of Object.entries(operation.responses)) {
        if (Number(code) >= 400) operation.responses[code] = error((response as { description?: string }).description || ERROR_ANSWERS[code] || 'Error');
      }
    }
  }
}

/**
 * Properties typed `unknown`, `object` or a union (`input`, `client_tools`, `tool_returns`, ...)
 * reach the schema generator as the JavaScript `Object` or `Array`, which it writes as references
 * to schemas of those names that nothing defines: they become plain object and array schemas.
 */
function replaceTypelessRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(replaceTypelessRefs);
  if (typeof value !== 'object' || value === null) return value;
  const ref = (value as { $ref?: unknown }).$ref;
  if (ref === '#/components/schemas/Object') return { type: 'object', additionalProperties: true };
  if (ref === '#/components/schemas/Array') return { type: 'array', items: {} };
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceTypelessRefs(item)]));
}

/** GET /openapi.json and Swagger UI at /docs. */
export function serveOpenApi(app: INestApplication): void {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
