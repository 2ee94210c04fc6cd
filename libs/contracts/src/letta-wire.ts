import { newId } from './ids';
/**
 * Letta's wire shapes (agents, messages, runs). These are what clients see; the
 * event payloads reuse them so a message is rendered once, by whoever produced it.
 */
export const RUN_STATUSES = ['created', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STOP_REASONS = [
  'end_turn',
  'max_steps',
  'tool_rule',
  'requires_approval',
  'error',
  'invalid_tool_call',
  'no_tool_call',
  'invalid_llm_response',
  'llm_api_error',
  'max_tokens_exceeded',
  'context_window_overflow_in_system_prompt',
  'insufficient_credits',
  'cancelled',
] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export const MESSAGE_TYPES = [
  'system_message',
  'user_message',
  'assistant_message',
  'reasoning_message',
  'hidden_reasoning_message',
  'tool_call_message',
  'tool_return_message',
  'approval_request_message',
  'approval_response_message',
  'summary_message',
  'event_message',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface TextContentPart {
  type: 'text';
  text: string;
  signature?: string | null;
}

export interface ImageContentPart {
  type: 'image';
  source:
    | { type: 'url'; url: string }
    | { type: 'base64'; media_type: string; data: string; detail?: string | null }
    | { type: 'letta'; file_id: string; media_type?: string | null; data?: string | null; detail?: string | null };
}

export type ContentPart = TextContentPart | ImageContentPart;
export type MessageContent = string | ContentPart[];

export interface LettaMessageBase {
  id: string;
  date: string;
  name: string | null;
  otid: string | null;
  sender_id: string | null;
  step_id: string | null;
  is_err: boolean | null;
  seq_id: number | null;
  run_id: string | null;
}

export interface SystemMessage extends LettaMessageBase {
  message_type: 'system_message';
  content: string;
}
export interface UserMessage extends LettaMessageBase {
  message_type: 'user_message';
  content: MessageContent;
}
export interface AssistantMessage extends LettaMessageBase {
  message_type: 'assistant_message';
  content: string | TextContentPart[];
}
export interface ReasoningMessage extends LettaMessageBase {
  message_type: 'reasoning_message';
  source: 'reasoner_model' | 'non_reasoner_model';
  reasoning: string;
  signature: string | null;
}
/** Reasoning the provider returned only in an encrypted or redacted form: kept, never shown. */
export interface HiddenReasoningMessage extends LettaMessageBase {
  message_type: 'hidden_reasoning_message';
  state: 'redacted' | 'omitted';
  hidden_reasoning: string | null;
}

export interface ToolCall {
  name: string;
  /** JSON text exactly as the model produced it. */
  arguments: string;
  tool_call_id: string;
}

export interface ToolCallMessage extends LettaMessageBase {
  message_type: 'tool_call_message';
  /** Deprecated by Letta: the first of `tool_calls`. */
  tool_call: ToolCall;
  tool_calls: ToolCall[];
}

export interface ToolReturn {
  type: 'tool';
  tool_call_id: string;
  tool_return: string;
  status: 'success' | 'error';
  stdout: string[] | null;
  stderr: string[] | null;
}

export interface ToolReturnMessage extends LettaMessageBase {
  message_type: 'tool_return_message';
  tool_return: string;
  status: 'success' | 'error';
  tool_call_id: string;
  stdout: string[] | null;
  stderr: string[] | null;
  tool_returns: ToolReturn[];
}

/** Tool calls the run paused on: client-side tools, or server tools that need a human's approval. */
export interface ApprovalRequestMessage extends LettaMessageBase {
  message_type: 'approval_request_message';
  tool_call: ToolCall;
  tool_calls: ToolCall[];
}

/** A decision on one pending call: run it (server tools) or deny it with a reason. */
export interface ApprovalDecision {
  type: 'approval';
  tool_call_id: string;
  approve: boolean;
  reason: string | null;
}

export interface ApprovalResponseMessage extends LettaMessageBase {
  message_type: 'approval_response_message';
  approvals: (ApprovalDecision | ToolReturn)[];
  /** Deprecated single-call form, mirrored from the first approval. */
  approve: boolean | null;
  approval_request_id: string | null;
  reason: string | null;
}

/** What a compaction did, as Letta reports it on its summary_message. */
export interface CompactionStats {
  /** `context_window_limit` (the prompt passed the trigger) or `context_window_exceeded` (the provider refused it). */
  trigger: string;
  context_tokens_before: number;
  context_tokens_after: number;
  context_window: number;
  messages_count_before: number;
  messages_count_after: number;
}

/** The summary a compaction left in the thread; shown only to requests with include_compaction_messages. */
export interface SummaryMessage extends LettaMessageBase {
  message_type: 'summary_message';
  summary: string;
  compaction_stats: CompactionStats | null;
}

/** That a compaction happened; shown only to requests with include_compaction_messages. */
export interface EventMessage extends LettaMessageBase {
  message_type: 'event_message';
  event_type: 'compaction';
  event_data: { trigger: string; context_token_estimate: number; context_window: number };
}

export type LettaMessage =
  | SystemMessage
  | UserMessage
  | AssistantMessage
  | ReasoningMessage
  | HiddenReasoningMessage
  | ToolCallMessage
  | ToolReturnMessage
  | ApprovalRequestMessage
  | ApprovalResponseMessage
  | SummaryMessage
  | EventMessage;

export interface LettaUsageStatistics {
  message_type: 'usage_statistics';
  completion_tokens: number;
  prompt_tokens: number;
  total_tokens: number;
  step_count: number;
  run_ids: string[] | null;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  context_tokens: number | null;
}

export interface LettaStopReason {
  message_type: 'stop_reason';
  stop_reason: StopReason;
}

export interface RunRequestConfig {
  use_assistant_message: boolean;
  assistant_message_tool_name: string;
  assistant_message_tool_kwarg: string;
  include_return_message_types: MessageType[] | null;
}

export interface RunView {
  id: string;
  status: RunStatus;
  created_at: string;
  completed_at: string | null;
  agent_id: string;
  conversation_id: string | null;
  base_template_id: string | null;
  background: boolean;
  metadata: Record<string, unknown>;
  request_config: RunRequestConfig;
  stop_reason: StopReason | null;
  callback_url: string | null;
  callback_sent_at: string | null;
  callback_status_code: number | null;
  callback_error: string | null;
  ttft_ns: number | null;
  total_duration_ns: number | null;
}

export interface ClientTool {
  name: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
}

/** `{run_id, status, completed_at, metadata: {..., result}}`: Letta's callback body. */
export interface RunCallbackPayload {
  run_id: string;
  status: RunStatus;
  completed_at: string;
  metadata: Record<string, unknown> & {
    result: {
      messages: LettaMessage[];
      stop_reason: LettaStopReason;
      usage: LettaUsageStatistics;
      logprobs: null;
      turns: null;
    };
  };
}

/**
 * The fields every Letta message carries, for a new one: a fresh id unless given, and no sender,
 * error flag or seq_id unless given.
 */
export function messageEnvelope(fields: {
  runId: string | null;
  date: string;
  id?: string;
  otid?: string | null;
  stepId?: string | null;
  name?: string | null;
  senderId?: string | null;
}): LettaMessageBase {
  return {
    id: fields.id ?? newId('message'),
    date: fields.date,
    name: fields.name ?? null,
    otid: fields.otid ?? null,
    sender_id: fields.senderId ?? null,
    step_id: fields.stepId ?? null,
    is_err: null,
    seq_id: null,
    run_id: fields.runId,
  };
}

/** Letta message dates carry whole seconds, in UTC with an offset. */
export function messageDate(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}
