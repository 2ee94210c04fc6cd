import { createHash } from 'node:crypto';
import type { AnyRunEvent, RunEvent } from '@lrs/contracts';

/** One span in the column layout of the OpenTelemetry ClickHouse exporter, which Letta's trace route returns. */
export interface TraceSpan {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  SpanName: string;
  SpanKind: 'SPAN_KIND_INTERNAL' | 'SPAN_KIND_CLIENT';
  ServiceName: string;
  /** Nanoseconds. */
  Duration: number;
  StatusCode: 'STATUS_CODE_OK' | 'STATUS_CODE_ERROR' | 'STATUS_CODE_UNSET';
  StatusMessage: string;
  SpanAttributes: Record<string, string>;
}

const NS_PER_MS = 1_000_000;

/**
 * The spans of a run, rebuilt from its event log: the run itself, each step (agent_step) with
 * its model request and time to first token, and each callback attempt. Every timestamp comes
 * from the events, so a run's trace is the same however often it is read.
 */
export function runTraceSpans(events: AnyRunEvent[]): TraceSpan[] {
  const created = events.find((event): event is RunEvent<'RunCreated'> => event.type === 'RunCreated');
  if (!created) return [];
  const traceId = traceIdOf(created);
  const span = (name: string, key: string, parent: string, start: number, end: number, extra: Partial<TraceSpan> = {}): TraceSpan => ({
    Timestamp: new Date(start).toISOString(),
    TraceId: traceId,
    SpanId: spanId(created.runId, key),
    ParentSpanId: parent,
    SpanName: name,
    SpanKind: 'SPAN_KIND_INTERNAL',
    ServiceName: 'letta-run-server',
    Duration: Math.max(0, Math.round((end - start) * NS_PER_MS)),
    StatusCode: 'STATUS_CODE_OK',
    StatusMessage: '',
    SpanAttributes: {},
    ...extra,
  });

  const finished = events.find((event): event is RunEvent<'RunFinished'> => event.type === 'RunFinished');
  const createdAt = Date.parse(created.data.createdAt);
  const lastSeen = Math.max(...events.map((event) => Date.parse(event.occurredAt)));
  const root = span('run', 'run', traceparentSpanId(created), createdAt, finished ? Date.parse(finished.data.completedAt) : lastSeen, {
    StatusCode: !finished ? 'STATUS_CODE_UNSET' : finished.data.status === 'failed' ? 'STATUS_CODE_ERROR' : 'STATUS_CODE_OK',
    StatusMessage: finished?.data.error ?? '',
    SpanAttributes: compact({
      run_id: created.runId,
      agent_id: created.agentId,
      conversation_id: created.data.conversationId,
      status: finished?.data.status ?? 'running',
      stop_reason: finished?.data.stopReason ?? null,
    }),
  });
  const spans = [root];

  for (const event of events) {
    if (event.type === 'StepCompleted' || event.type === 'StepFailed') {
      const requested = events.find(
        (other): other is RunEvent<'StepRequested'> => other.type === 'StepRequested' && other.data.stepId === event.data.stepId,
      );
      const start = Date.parse(requested?.data.requestedAt ?? event.occurredAt);
      const key = `step:${event.data.stepId}`;
      if (event.type === 'StepFailed') {
        spans.push(
          span('agent_step', key, root.SpanId, start, Date.parse(event.data.failedAt), {
            StatusCode: 'STATUS_CODE_ERROR',
            StatusMessage: event.data.message,
            SpanAttributes: { step_id: event.data.stepId, step_index: String(event.data.stepIndex), error_type: event.data.errorType, attempts: String(event.data.attempts) },
          }),
        );
        continue;
      }
      const { data } = event;
      const end = Date.parse(data.completedAt);
      const toolCalls = data.messages.flatMap((message) => ('tool_calls' in message && Array.isArray(message.tool_calls) ? message.tool_calls : []));
      const step = span('agent_step', key, root.SpanId, start, end, {
        SpanAttributes: compact({
          step_id: data.stepId,
          step_index: String(data.stepIndex),
          model: data.modelHandle,
          prompt_tokens: String(data.usage.prompt_tokens),
          completion_tokens: String(data.usage.completion_tokens),
          total_tokens: String(data.usage.total_tokens),
          tools_called: toolCalls.length ? toolCalls.map((call) => call.name).join(',') : null,
        }),
      });
      spans.push(step, span('llm_request', `${key}:llm`, step.SpanId, data.llmRequestStartedAtMs, end, { SpanKind: 'SPAN_KIND_CLIENT', SpanAttributes: { model: data.model } }));
      if (data.firstTokenAtMs !== null) {
        spans.push(span('time_to_first_token', `${key}:ttft`, step.SpanId, data.llmRequestStartedAtMs, data.firstTokenAtMs));
      }
    }
    if (event.type === 'CallbackAttempted') {
      const sentAt = Date.parse(event.data.sentAt);
      spans.push(
        span('callback', `callback:${event.data.attempt}`, root.SpanId, sentAt, Math.max(sentAt, Date.parse(event.occurredAt)), {
          SpanKind: 'SPAN_KIND_CLIENT',
          StatusCode: event.data.error === null && event.data.statusCode !== null && event.data.statusCode < 300 ? 'STATUS_CODE_OK' : 'STATUS_CODE_ERROR',
          StatusMessage: event.data.error ?? '',
          SpanAttributes: compact({ attempt: String(event.data.attempt), status_code: event.data.statusCode === null ? null : String(event.data.statusCode) }),
        }),
      );
    }
  }
  return spans;
}

/** The W3C trace the request came with, else one derived from the run id (its uuid is 32 hex digits). */
function traceIdOf(event: Pick<AnyRunEvent, 'runId' | 'traceparent'>): string {
  const fromParent = event.traceparent?.split('-')[1];
  if (fromParent && /^[0-9a-f]{32}$/.test(fromParent)) return fromParent;
  return event.runId.replace(/^run-/, '').replace(/-/g, '');
}

function traceparentSpanId(created: RunEvent<'RunCreated'>): string {
  const parent = created.traceparent?.split('-')[2];
  return parent && /^[0-9a-f]{16}$/.test(parent) ? parent : '';
}

/**
 * The W3C traceparent the spans of a run's work join (libs/messaging/jetstream's consumer spans):
 * the one its events carry, else, for a run created without one, the trace `runTraceSpans` gives
 * it: the trace id from the run id, the parent its root `run` span.
 */
export function runTraceparent(event: Pick<AnyRunEvent, 'runId' | 'traceparent'>): string {
  if (event.traceparent && /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(event.traceparent)) return event.traceparent;
  return `00-${traceIdOf(event)}-${spanId(event.runId, 'run')}-01`;
}

function spanId(runId: string, key: string): string {
  return createHash('sha256').update(`${runId}:${key}`).digest('hex').slice(0, 16);
}

function compact(attributes: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter((entry): entry is [string, string] => entry[1] !== null));
}
