import type { AnyRunEvent, LettaMessage, LettaUsageStatistics, MessageType, RunView, TokenUsage } from '@lrs/contracts';
import { isTerminalStatus } from './run-status';
import { compactionNotices } from './compaction';

/** ISO 8601 UTC with an explicit offset, the one timestamp form this API emits. */
export function isoUtc(value: Date | string | null): string | null {
  if (value === null) return null;
  const date = value instanceof Date ? value : new Date(value);
  return date.toISOString().replace('Z', '+00:00');
}

export function filterMessageTypes(messages: LettaMessage[], include: MessageType[] | null | undefined): LettaMessage[] {
  if (!include || include.length === 0) return messages;
  return messages.filter((message) => include.includes(message.message_type));
}

/**
 * A run as its own events say it is: what GET /v1/runs/{id}, the callback and the synchronous
 * answer show. The projector computes the same from the same events, so the read model and this
 * fold agree; the run path uses the fold and never waits for the projection.
 */
export interface RunFold {
  view: RunView;
  /** Per-run sequence of the last event folded. */
  version: number;
  startedAtMs: number | null;
  deleted: boolean;
  /** The request's messages; they join the run's messages when it starts (queued runs have none). */
  input: LettaMessage[];
  /** The run's messages in execution order: its input once started, then each step's. */
  messages: LettaMessage[];
  usage: LettaUsageStatistics;
  /** The request asked to see compactions (include_compaction_messages). */
  includeCompactionMessages?: boolean;
}

/** A fold that starts from a run as the read model shows it (its messages and usage are not carried). */
export function foldFromView(view: RunView, version: number, startedAt: Date | string | null): RunFold {
  return { view, version, startedAtMs: startedAt === null ? null : new Date(startedAt).getTime(), deleted: false, input: [], messages: [], usage: emptyUsage() };
}

/** Folds a run's events, oldest first; null until its RunCreated is among them. */
export function foldRun(events: readonly AnyRunEvent[], initial: RunFold | null = null): RunFold | null {
  let fold = initial;
  for (const event of events) fold = evolveRun(fold, event);
  return fold;
}

/** One event applied to a run's fold. Redelivered or out-of-order events leave it unchanged. */
export function evolveRun(fold: RunFold | null, event: AnyRunEvent): RunFold | null {
  if (event.type === 'RunCreated') return fold ?? created(event);
  if (!fold || event.seq !== fold.version + 1) return fold;
  const next: RunFold = { ...fold, version: event.seq };
  switch (event.type) {
    case 'RunStarted':
      next.view = { ...fold.view, status: 'running' };
      next.startedAtMs = Date.parse(event.data.startedAt);
      next.messages = [...fold.messages, ...fold.input];
      return next;
    case 'StepRequested':
      return next;
    case 'StepCompleted': {
      const { data } = event;
      next.messages = [...fold.messages, ...(fold.includeCompactionMessages ? compactionNotices(event.runId, data) : []), ...data.messages];
      next.usage = addStepUsage(fold.usage, data.usage);
      if (data.stepIndex === 1 && data.firstTokenAtMs !== null && fold.startedAtMs !== null) {
        next.view = { ...fold.view, ttft_ns: Math.max(0, Math.round((data.firstTokenAtMs - fold.startedAtMs) * 1_000_000)) };
      }
      return next;
    }
    case 'StepFailed':
      next.usage = { ...fold.usage, step_count: fold.usage.step_count + 1 };
      return next;
    case 'RunFinished': {
      if (isTerminalStatus(fold.view.status)) return next;
      const { data } = event;
      next.view = {
        ...fold.view,
        status: data.status,
        stop_reason: data.stopReason,
        completed_at: isoUtc(data.completedAt),
        metadata: data.error === null ? fold.view.metadata : { ...fold.view.metadata, error: data.error },
        total_duration_ns: Math.round((Date.parse(data.completedAt) - Date.parse(fold.view.created_at)) * 1_000_000),
      };
      return next;
    }
    case 'CallbackAttempted':
      next.view = {
        ...fold.view,
        callback_sent_at: isoUtc(event.data.sentAt),
        callback_status_code: event.data.statusCode,
        callback_error: event.data.error,
      };
      return next;
    case 'RunDeleted':
      return { ...next, deleted: true, messages: [] };
    default:
      return exhaustive(event);
  }
}

function created(event: Extract<AnyRunEvent, { type: 'RunCreated' }>): RunFold {
  const { data } = event;
  return {
    view: {
      id: event.runId,
      status: 'created',
      created_at: isoUtc(data.createdAt) as string,
      completed_at: null,
      agent_id: event.agentId,
      conversation_id: data.conversationId,
      base_template_id: null,
      background: data.background,
      metadata: data.metadata,
      request_config: data.requestConfig,
      stop_reason: null,
      callback_url: data.callbackUrl,
      callback_sent_at: null,
      callback_status_code: null,
      callback_error: null,
      ttft_ns: null,
      total_duration_ns: null,
    },
    version: event.seq,
    startedAtMs: null,
    deleted: false,
    messages: [],
    input: data.input,
    usage: emptyUsage(),
    includeCompactionMessages: data.includeCompactionMessages === true,
  };
}

/**
 * Usage summed over a run's steps, as Letta reports it: prompt tokens count once per step,
 * `context_tokens` is the latest step's total, and `reasoning_tokens` stays null until a step's
 * provider reports some.
 */
export function addStepUsage(total: LettaUsageStatistics, step: TokenUsage): LettaUsageStatistics {
  return {
    ...total,
    prompt_tokens: total.prompt_tokens + step.prompt_tokens,
    completion_tokens: total.completion_tokens + step.completion_tokens,
    total_tokens: total.total_tokens + step.total_tokens,
    step_count: total.step_count + 1,
    reasoning_tokens: step.reasoning_tokens === undefined ? total.reasoning_tokens : (total.reasoning_tokens ?? 0) + step.reasoning_tokens,
    context_tokens: step.total_tokens,
  };
}

export function emptyUsage(): LettaUsageStatistics {
  return {
    message_type: 'usage_statistics',
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    step_count: 0,
    run_ids: null,
    cached_input_tokens: null,
    cache_write_tokens: null,
    reasoning_tokens: null,
    context_tokens: null,
  };
}

function exhaustive(event: never): never {
  throw new Error(`unknown run event ${(event as AnyRunEvent).type}`);
}
