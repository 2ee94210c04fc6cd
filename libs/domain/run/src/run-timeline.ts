import { operationOf, type AnyRunEvent, type BlockEditOperation, type LettaMessage, type RunEvent, type RunStatus, type StopReason, type TokenUsage, type ToolCall } from '@lrs/contracts';

/**
 * What happened to a run, in order, as a person inspecting it wants to read it: one entry per
 * thing that happened (not per event), each with its time and the numbers that matter for it.
 * Built from the run's event log alone, like its trace, so it reads the same however often asked.
 */
export type RunTimelineEntry =
  | { type: 'created'; at: string; background: boolean; callback_url: string | null; max_steps: number; input: LettaMessage[] }
  | { type: 'queued'; at: string; waited_ms: number; behind_run_id: string | null }
  | { type: 'started'; at: string }
  | {
      type: 'step';
      at: string;
      step_id: string;
      step_index: number;
      status: 'running' | 'completed' | 'failed';
      model: string | null;
      /** From the step's request to its end; null while it runs. */
      duration_ms: number | null;
      /** From the model request to its first streamed token. */
      ttft_ms: number | null;
      usage: TokenUsage | null;
      error: { type: string; message: string; attempts: number } | null;
    }
  | { type: 'tool_call'; at: string; step_id: string; tool_call_id: string; name: string; arguments: string; needs_approval: boolean }
  | { type: 'tool_return'; at: string; step_id: string | null; tool_call_id: string; status: 'success' | 'error'; result: string }
  | { type: 'approval'; at: string; tool_call_id: string; approve: boolean; reason: string | null }
  /** A memory block the step changed: which block, by which tool call and operation, and the block's version after it. */
  | {
      type: 'memory_edit';
      at: string;
      step_id: string;
      tool_call_id: string | null;
      label: string;
      block_id: string | null;
      operation: BlockEditOperation['kind'];
      version: number | null;
    }
  | { type: 'finished'; at: string; status: Exclude<RunStatus, 'created' | 'running'>; stop_reason: StopReason; error: string | null }
  | { type: 'callback'; at: string; attempt: number; status_code: number | null; error: string | null; latency_ms: number; final: boolean }
  | { type: 'deleted'; at: string };

export const RUN_TIMELINE_ENTRY_TYPES = [
  'created',
  'queued',
  'started',
  'step',
  'tool_call',
  'tool_return',
  'approval',
  'memory_edit',
  'finished',
  'callback',
  'deleted',
] as const satisfies readonly RunTimelineEntry['type'][];

export interface RunTimeline {
  run_id: string;
  entries: RunTimelineEntry[];
}

/**
 * The run's timeline. `behindRunId` is the run this one waited for in its lane, when the caller
 * knows it (the log of one run does not name the others).
 */
export function runTimeline(events: readonly AnyRunEvent[], behindRunId: string | null = null): RunTimelineEntry[] {
  const entries: RunTimelineEntry[] = [];
  const requested = new Map<string, RunEvent<'StepRequested'>>();
  for (const event of events) {
    switch (event.type) {
      case 'RunCreated': {
        const { data } = event;
        entries.push({ type: 'created', at: data.createdAt, background: data.background, callback_url: data.callbackUrl, max_steps: data.maxSteps, input: data.input });
        entries.push(...approvalsIn(data.input, data.createdAt));
        break;
      }
      case 'RunStarted': {
        const created = events.find((other): other is RunEvent<'RunCreated'> => other.type === 'RunCreated');
        const waited = created ? Date.parse(event.data.startedAt) - Date.parse(created.data.createdAt) : 0;
        if (behindRunId !== null && created) entries.push({ type: 'queued', at: created.data.createdAt, waited_ms: Math.max(0, waited), behind_run_id: behindRunId });
        entries.push({ type: 'started', at: event.data.startedAt });
        break;
      }
      case 'StepRequested':
        requested.set(event.data.stepId, event);
        entries.push(stepEntry(event, null));
        break;
      case 'StepCompleted':
      case 'StepFailed':
        replaceStep(entries, stepEntry(requested.get(event.data.stepId) ?? null, event));
        if (event.type === 'StepCompleted') entries.push(...toolEntries(event), ...memoryEditEntries(event));
        break;
      case 'RunFinished':
        entries.push({ type: 'finished', at: event.data.completedAt, status: event.data.status, stop_reason: event.data.stopReason, error: event.data.error });
        break;
      case 'CallbackAttempted': {
        const { data } = event;
        const latency = Date.parse(event.occurredAt) - Date.parse(data.sentAt);
        entries.push({ type: 'callback', at: data.sentAt, attempt: data.attempt, status_code: data.statusCode, error: data.error, latency_ms: Math.max(0, latency), final: data.final });
        break;
      }
      case 'RunDeleted':
        entries.push({ type: 'deleted', at: event.data.deletedAt });
        break;
    }
  }
  return entries;
}

type StepEntry = Extract<RunTimelineEntry, { type: 'step' }>;

function stepEntry(request: RunEvent<'StepRequested'> | null, end: RunEvent<'StepCompleted'> | RunEvent<'StepFailed'> | null): StepEntry {
  const requestedAt = request?.data.requestedAt ?? end?.occurredAt ?? '';
  const entry: StepEntry = {
    type: 'step',
    at: requestedAt,
    step_id: (request ?? end)!.data.stepId,
    step_index: (request ?? end)!.data.stepIndex,
    status: 'running',
    model: null,
    duration_ms: null,
    ttft_ms: null,
    usage: null,
    error: null,
  };
  if (end?.type === 'StepCompleted') {
    const { data } = end;
    return {
      ...entry,
      status: 'completed',
      model: data.modelHandle,
      duration_ms: Date.parse(data.completedAt) - Date.parse(requestedAt),
      ttft_ms: data.firstTokenAtMs === null ? null : Math.round(data.firstTokenAtMs - data.llmRequestStartedAtMs),
      usage: data.usage,
    };
  }
  if (end?.type === 'StepFailed') {
    const { data } = end;
    return { ...entry, status: 'failed', duration_ms: Date.parse(data.failedAt) - Date.parse(requestedAt), error: { type: data.errorType, message: data.message, attempts: data.attempts } };
  }
  return entry;
}

function replaceStep(entries: RunTimelineEntry[], step: StepEntry): void {
  const index = entries.findIndex((entry) => entry.type === 'step' && entry.step_id === step.step_id);
  if (index === -1) entries.push(step);
  else entries[index] = step;
}

/**
 * The tool calls a step's model asked for (run, or waiting for approval) and the results it stored,
 * at the step's end: the model's answer, which names them, is complete only then.
 */
function toolEntries(event: RunEvent<'StepCompleted'>): RunTimelineEntry[] {
  const { data } = event;
  const at = data.completedAt;
  return data.messages.flatMap((message): RunTimelineEntry[] => {
    if (message.message_type === 'tool_call_message' || message.message_type === 'approval_request_message') {
      return callsOf(message).map((call) => ({
        type: 'tool_call',
        at,
        step_id: data.stepId,
        tool_call_id: call.tool_call_id,
        name: call.name,
        arguments: call.arguments,
        needs_approval: message.message_type === 'approval_request_message',
      }));
    }
    if (message.message_type === 'tool_return_message') {
      const returns = message.tool_returns?.length ? message.tool_returns : [message];
      return returns.map((result) => ({ type: 'tool_return', at, step_id: data.stepId, tool_call_id: result.tool_call_id, status: result.status, result: result.tool_return }));
    }
    return [];
  });
}

/** The step's memory edits as committed (older events name only the block and its value). */
function memoryEditEntries(event: RunEvent<'StepCompleted'>): RunTimelineEntry[] {
  const { data } = event;
  return (data.memoryEdits ?? []).map((edit) => ({
    type: 'memory_edit',
    at: data.completedAt,
    step_id: data.stepId,
    tool_call_id: edit.toolCallId ?? null,
    label: edit.label,
    block_id: edit.blockId ?? null,
    operation: operationOf(edit).kind,
    version: edit.version ?? null,
  }));
}

function callsOf(message: { tool_call: ToolCall; tool_calls: ToolCall[] }): ToolCall[] {
  return message.tool_calls?.length ? message.tool_calls : [message.tool_call];
}

/** A resumed run's input answers the calls its predecessor paused on: approvals, denials, client tool results. */
function approvalsIn(input: readonly LettaMessage[], at: string): RunTimelineEntry[] {
  return input.flatMap((message): RunTimelineEntry[] => {
    if (message.message_type !== 'approval_response_message') return [];
    return message.approvals.map((answer) =>
      answer.type === 'approval'
        ? { type: 'approval', at, tool_call_id: answer.tool_call_id, approve: answer.approve, reason: answer.reason }
        : { type: 'tool_return', at, step_id: null, tool_call_id: answer.tool_call_id, status: answer.status, result: answer.tool_return },
    );
  });
}
