import type { ClientTool, CompactionStats, LettaMessage, MessageType, RunRequestConfig, RunStatus, StopReason } from './letta-wire';

/**
 * Schema version of every event payload below; bump together with an upcaster when a payload
 * changes shape (run-event-contract/upcasters.ts). 2: RunCreated always carries approvalTimeoutSeconds.
 */
export const RUN_EVENT_SCHEMA_VERSION = 2;

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Part of completion_tokens the model spent reasoning, when the provider reports it. */
  reasoning_tokens?: number;
}

/**
 * A change to a memory block, as an operation: it is applied to the block as the block is when the
 * change commits (not as the step saw it), so concurrent writers of one block all keep their changes.
 */
export type BlockEditOperation =
  /** Lines inserted after line `insertLine` (0 = at the start, -1 = at the end). */
  | { kind: 'insert'; newStr: string; insertLine: number }
  /** One exact occurrence of `oldStr` replaced. */
  | { kind: 'replace'; oldStr: string; newStr: string }
  /** The whole value rewritten. */
  | { kind: 'rethink'; newValue: string };

export interface MemoryEdit {
  /** Unique per edit: applying an edit whose id the block's ledger holds changes nothing. Absent in events older than edit ids. */
  id?: string;
  label: string;
  /** The tool call that made the edit, when a model's tool call did. */
  toolCallId?: string;
  /** Absent in events older than operations: those carried only the value, which is a rethink. */
  operation?: BlockEditOperation;
  /** The block's whole value right after this edit was committed. */
  value: string;
  blockId?: string;
  /** The block's version after this edit (every committed change adds one). */
  version?: number;
}

/** A passage a step stored in its agent's own archive. */
export interface ArchivalInsert {
  id: string;
  text: string;
  tags: string[];
  createdAt: string;
  toolCallId?: string;
}

/**
 * A change to which blocks an agent has (Letta's `memory` tool: create, delete, rename), committed
 * with its step exactly once by `id` and taken back when the step's outcome does not reach the log.
 */
export type BlockChangeOperation =
  /** A new block, attached to the agent after its others. `blockId` is chosen by the tool, so a rewrite creates the same block. */
  | { kind: 'create'; blockId: string; label: string; value: string; description: string | null; limit: number }
  /** The block detached from this agent; the block itself stays (other agents may share it), as the API's detach. */
  | { kind: 'delete'; blockId: string; label: string }
  /** The block's label changed from `label` to `newLabel` (on every agent that has it: a label is the block's). */
  | { kind: 'rename'; blockId: string; label: string; newLabel: string }
  /** The block's description changed. */
  | { kind: 'describe'; blockId: string; label: string; description: string };

export interface BlockChange {
  /** Unique per change: committing a change whose id the ledger holds changes nothing. */
  id: string;
  /** The tool call that made the change. */
  toolCallId?: string;
  operation: BlockChangeOperation;
}

/** The operation of an edit, for events that carry only the resulting value. */
export function operationOf(edit: MemoryEdit): BlockEditOperation {
  return edit.operation ?? { kind: 'rethink', newValue: edit.value };
}

export interface RunCreatedData {
  conversationId: string | null;
  background: boolean;
  createdAt: string;
  maxSteps: number;
  callbackUrl: string | null;
  overrideModel: string | null;
  clientTools: ClientTool[] | null;
  includeReturnMessageTypes: MessageType[] | null;
  metadata: Record<string, unknown>;
  requestConfig: RunRequestConfig;
  /** The request's messages, already rendered as Letta messages with ids and otids. */
  input: LettaMessage[];
  /**
   * When the run pauses for approval, deny the pending calls after this long and continue (null:
   * wait). Present in every stored event since version 2: buildRunEvent writes null when left out.
   */
  approvalTimeoutSeconds?: number | null;
  /** The run only records its approval decisions (a cancelled paused run); no model call. */
  resolveApprovalsOnly?: boolean;
  /** Show a compaction during the run as event_message and summary_message (Letta's include_compaction_messages). */
  includeCompactionMessages?: boolean;
}

export interface RunStartedData {
  startedAt: string;
  maxSteps: number;
  /** Stream sequence of the run's RunCreated, carried along so any handler can read it in one message read. */
  createdStreamSeq?: number;
}

export interface StepRequestedData {
  stepId: string;
  /** 1-based index of the model call within the run. */
  stepIndex: number;
  maxSteps: number;
  requestedAt: string;
  /** Stream sequence of the run's RunCreated, carried along so any handler can read it in one message read. */
  createdStreamSeq?: number;
}

export interface StepCompletedData {
  stepId: string;
  stepIndex: number;
  maxSteps: number;
  model: string;
  modelHandle: string;
  messages: LettaMessage[];
  usage: TokenUsage;
  /** The step's changes to memory blocks, in the order they were committed. */
  memoryEdits?: MemoryEdit[];
  /** Passages the step's tools stored in archival memory (their embeddings stay in Postgres). */
  archivalInserts?: ArchivalInsert[];
  /** Blocks the step's tools created, deleted (detached) or renamed, in order; committed before its memory edits. */
  blockChanges?: BlockChange[];
  /** True when the model asked for tool calls, so the loop wants another step. */
  continueLoop: boolean;
  /** Set when the step itself ends the turn for a reason other than end_turn (e.g. max_tokens_exceeded). */
  stopReason: StopReason | null;
  /** Set when the step paused for approval and the request asked for an approval timeout. */
  approvalTimeoutSeconds?: number | null;
  /** Wall-clock epoch milliseconds (fractional) of the first streamed token, for ttft_ns. */
  firstTokenAtMs: number | null;
  llmRequestStartedAtMs: number;
  completedAt: string;
  /** Stream sequence of the run's RunCreated, carried along so any handler can read it in one message read. */
  createdStreamSeq?: number;
  /** Set when the thread was compacted to fit the model's context window before this step's model call. */
  compaction?: StepCompaction | null;
}

/** An automatic compaction: the summary message it stored in the thread, and what it changed. */
export interface StepCompaction {
  summaryMessageId: string;
  summary: string;
  stats: CompactionStats;
}

export interface StepFailedData {
  stepId: string;
  stepIndex: number;
  /** llm_api_error when the model kept failing, error when the step itself could not run. */
  stopReason: StopReason;
  errorType: string;
  message: string;
  attempts: number;
  failedAt: string;
  /** Stream sequence of the run's RunCreated, carried along so any handler can read it in one message read. */
  createdStreamSeq?: number;
}

export interface RunFinishedData {
  status: Exclude<RunStatus, 'created' | 'running'>;
  stopReason: StopReason;
  completedAt: string;
  error: string | null;
  /** A pause for approval that denies itself after `seconds` unless answered first. */
  approvalTimeout?: { seconds: number; toolCallIds: string[] } | null;
  /** Stream sequence of the run's RunCreated, carried along so any handler can read it in one message read. */
  createdStreamSeq?: number;
}

export interface CallbackAttemptedData {
  attempt: number;
  sentAt: string;
  statusCode: number | null;
  error: string | null;
  /** True when no further attempt will be made (delivered, not retryable, or attempts exhausted). */
  final: boolean;
}

/** DELETE /v1/runs/{id}: the run leaves the read model; its events stay in the log. */
export interface RunDeletedData {
  deletedAt: string;
}

export interface RunEventDataMap {
  RunCreated: RunCreatedData;
  RunStarted: RunStartedData;
  StepRequested: StepRequestedData;
  StepCompleted: StepCompletedData;
  StepFailed: StepFailedData;
  RunFinished: RunFinishedData;
  CallbackAttempted: CallbackAttemptedData;
  RunDeleted: RunDeletedData;
}

export type RunEventType = keyof RunEventDataMap;
export const RUN_EVENT_TYPES = [
  'RunCreated',
  'RunStarted',
  'StepRequested',
  'StepCompleted',
  'StepFailed',
  'RunFinished',
  'CallbackAttempted',
  'RunDeleted',
] as const satisfies readonly RunEventType[];

export interface RunEvent<T extends RunEventType = RunEventType> {
  /** Unique and deterministic (`evt:<runId>:<seq>`); also the JetStream `Nats-Msg-Id`. */
  id: string;
  type: T;
  version: number;
  runId: string;
  /** Per-run sequence number, 1, 2, 3, ... with no gaps. */
  seq: number;
  occurredAt: string;
  organizationId: string;
  agentId: string;
  /** The queue the run waits in (its agent today, its conversation once those exist). */
  laneId: string;
  traceparent: string | null;
  data: RunEventDataMap[T];
}

export type AnyRunEvent = { [K in RunEventType]: RunEvent<K> }[RunEventType];

/** An event decided but not yet numbered: the publisher assigns `seq` and `id` when appending. */
export type RunEventDraft = { [K in RunEventType]: { type: K; data: RunEventDataMap[K] } }[RunEventType];

/**
 * `evt:<runId>:<seq>`, plus a digest of the payload for events decided by services: a retried
 * publish of the same decision is then deduplicated by JetStream, while a different decision
 * for the same position (a racing replica) is not mistaken for it and loses the concurrency check.
 */
/** A run's position: one event per run and `seq`, whoever writes it. */
export function runEventId(runId: string, seq: number): string {
  return `evt:${runId}:${seq}`;
}

export function buildRunEvent<T extends RunEventType>(
  base: { runId: string; seq: number; organizationId: string; agentId: string; laneId: string; traceparent?: string | null },
  type: T,
  data: RunEventDataMap[T],
  occurredAt: string = new Date().toISOString(),
): RunEvent<T> {
  return {
    id: runEventId(base.runId, base.seq),
    type,
    version: RUN_EVENT_SCHEMA_VERSION,
    runId: base.runId,
    seq: base.seq,
    occurredAt,
    organizationId: base.organizationId,
    agentId: base.agentId,
    laneId: base.laneId,
    traceparent: base.traceparent ?? null,
    data: withVersionDefaults(type, data),
  };
}

/** The fields the current version always carries, filled in where a producer left them out. */
function withVersionDefaults<T extends RunEventType>(type: T, data: RunEventDataMap[T]): RunEventDataMap[T] {
  if (type !== 'RunCreated') return data;
  const created = data as RunCreatedData;
  return (created.approvalTimeoutSeconds === undefined ? { ...created, approvalTimeoutSeconds: null } : created) as RunEventDataMap[T];
}

export function isRunEventType(value: unknown): value is RunEventType {
  return typeof value === 'string' && (RUN_EVENT_TYPES as readonly string[]).includes(value);
}
