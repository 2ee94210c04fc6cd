import { countTextTokens } from '@lrs/tokens';
import type { LettaMessage, MessageContent } from '@lrs/contracts';
import { summaryMessageText } from './compaction';

/**
 * Token counts for a model's context window. The count is OpenAI's o200k_base encoding (GPT-4o
 * and later); for other model families it is an estimate within a few percent, which the
 * compaction trigger's headroom absorbs, and a provider that still answers
 * `context_length_exceeded` makes the step compact harder (docs/context-window.md).
 */

/** What every chat message costs beyond its content (role and delimiters), as OpenAI counts it. */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** Replies are primed with 3 tokens in OpenAI's count. */
const REPLY_PRIMING_TOKENS = 3;
/** An image at high detail, 1024 px square: OpenAI's figure, used for every image part. */
const IMAGE_TOKENS = 765;

/** The share of the prompt budget past which the thread is compacted before the model call. */
export const COMPACTION_TRIGGER_FRACTION = 0.9;
/**
 * The share of the room for messages (the prompt budget less the system prompt and tools) up to
 * which a compaction keeps older exchanges verbatim, newest first, so the next turns fit before
 * the trigger. The newest exchange is kept even past it, whenever it fits (`planSlidingWindow`).
 */
export const COMPACTION_KEEP_FRACTION = 0.5;
/**
 * The share of the prompt budget a compaction leaves free when it decides what to keep verbatim.
 * Counts are o200k_base; for a model family whose tokenizer we do not have they are estimates, a
 * few percent off. A kept exchange planned to the last token could then pass the model's real
 * window, and the refusal would summarise everything, that exchange included.
 */
export const COUNT_ESTIMATE_HEADROOM = 0.05;
/** The share of the prompt budget a summary may take. */
const SUMMARY_SHARE = 0.1;
/** A window to assume when an agent's llm_config names none. */
export const DEFAULT_CONTEXT_WINDOW = 128_000;
/** The reply's reserve when the agent sets no max_tokens: this, or a quarter of the window if smaller. */
const DEFAULT_REPLY_RESERVE = 4_096;

export function textTokens(text: string): number {
  return countTextTokens(text);
}

function contentTokens(content: MessageContent): number {
  if (typeof content === 'string') return textTokens(content);
  return content.reduce((sum, part) => sum + (part.type === 'text' ? textTokens(part.text) : IMAGE_TOKENS), 0);
}

/**
 * What a stored message costs in a prompt, as `toChatMessages` sends it: zero for what is never
 * sent (reasoning, approval responses, which reach the model as the tool results after them).
 */
export function messageTokens(message: LettaMessage): number {
  switch (message.message_type) {
    case 'user_message':
    case 'assistant_message':
    case 'system_message':
      return MESSAGE_OVERHEAD_TOKENS + contentTokens(message.content);
    case 'tool_call_message':
    case 'approval_request_message':
      return MESSAGE_OVERHEAD_TOKENS + message.tool_calls.reduce((sum, call) => sum + textTokens(call.name) + textTokens(call.arguments) + 3, 0);
    case 'tool_return_message':
      return message.tool_returns.reduce((sum, result) => sum + MESSAGE_OVERHEAD_TOKENS + textTokens(result.tool_return), 0);
    case 'reasoning_message':
    case 'hidden_reasoning_message':
    case 'approval_response_message':
    case 'summary_message':
    case 'event_message':
      return 0;
  }
}

/** The system prompt as the first message of the prompt, with the reply's priming. */
export function systemPromptTokens(systemPrompt: string): number {
  return MESSAGE_OVERHEAD_TOKENS + textTokens(systemPrompt) + REPLY_PRIMING_TOKENS;
}

/** Tool schemas as sent: providers render them into the prompt; their JSON text is a close upper estimate. */
export function toolSchemaTokens(tools: readonly unknown[]): number {
  return tools.length === 0 ? 0 : textTokens(JSON.stringify(tools));
}

export interface ContextBudget {
  /** The model's context window (llm_config.context_window). */
  window: number;
  /** Kept free for the reply: llm_config.max_tokens, else min(4096, window / 4). */
  replyReserve: number;
  /** What the prompt may take: window − replyReserve. */
  promptLimit: number;
  /** Past this the thread is compacted before the call. */
  compactAbove: number;
  /** The longest summary a compaction asks for. */
  summaryMaxTokens: number;
}

export function contextBudget(llmConfig: Record<string, unknown> | null | undefined): ContextBudget {
  const window = positiveInteger(llmConfig?.context_window) ?? DEFAULT_CONTEXT_WINDOW;
  const replyReserve = Math.min(positiveInteger(llmConfig?.max_tokens) ?? Math.min(DEFAULT_REPLY_RESERVE, Math.floor(window / 4)), Math.floor(window / 2));
  const promptLimit = window - replyReserve;
  return {
    window,
    replyReserve,
    promptLimit,
    compactAbove: Math.floor(promptLimit * COMPACTION_TRIGGER_FRACTION),
    summaryMaxTokens: Math.max(64, Math.floor(promptLimit * SUMMARY_SHARE)),
  };
}

function positiveInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

export interface CountedMessage {
  body: LettaMessage;
  tokens: number;
}

/**
 * Which of a thread's earlier messages (oldest first) a compaction keeps verbatim; everything
 * before the cut is summarised. The newest exchange (the last user message and everything after
 * it) is kept whole when it fits `fitTokens`; when it does not, its newest messages that fit are,
 * never a tool result (or approval response) without the call it answers. Older exchanges follow,
 * newest first, each whole, while the total stays within `shareTokens` (and `fitTokens`).
 */
export function keepNewest<T extends CountedMessage>(context: readonly T[], fitTokens: number, shareTokens = fitTokens): { summarize: T[]; keep: T[] } {
  let newest = context.length - 1;
  while (newest > 0 && context[newest].body.message_type !== 'user_message') newest--;
  let cut = context.length;
  let kept = 0;
  let newestTokens = 0;
  for (let index = context.length - 1; index >= 0; index--) {
    kept += context[index].tokens;
    const inNewest = index >= newest;
    if (inNewest) newestTokens = kept;
    if (kept > (inNewest ? fitTokens : Math.min(fitTokens, Math.max(shareTokens, newestTokens)))) break;
    if (inNewest ? startsPrompt(context[index].body) : context[index].body.message_type === 'user_message') cut = index;
  }
  return { summarize: context.slice(0, cut), keep: context.slice(cut) };
}

/** A kept part may begin here: not at a tool's result, which must follow its call. */
function startsPrompt(message: LettaMessage): boolean {
  return message.message_type !== 'tool_return_message' && message.message_type !== 'approval_response_message';
}

/** What a step's prompt holds besides the thread's earlier messages. */
export interface PromptParts {
  /** The system prompt's and the tool schemas' tokens. */
  fixedTokens: number;
  /** This step's messages not stored yet. */
  pendingTokens: number;
  /** The run's own stored messages, never compacted. */
  ownTokens: number;
}

/**
 * A sliding-window compaction before a step: which of the thread's earlier messages (oldest first)
 * are kept verbatim beside the summary, and which are summarised. The newest exchange is kept
 * whenever it fits beside the system prompt and tools, the summary as stored, the step's own
 * messages and the estimate headroom; older exchanges only within the keep share.
 */
export function planSlidingWindow<T extends CountedMessage>(earlier: readonly T[], budget: ContextBudget, parts: PromptParts): { summarize: T[]; keep: T[] } {
  const headroom = Math.ceil(budget.promptLimit * COUNT_ESTIMATE_HEADROOM);
  const fit = budget.promptLimit - headroom - parts.fixedTokens - parts.pendingTokens - parts.ownTokens - summaryMessageMaxTokens(budget);
  return keepNewest(earlier, fit, Math.floor((budget.promptLimit - parts.fixedTokens) * COMPACTION_KEEP_FRACTION));
}

let summaryAlertTokens: number | undefined;

/** The most a compaction's summary costs as stored: the summary bound, packed in Letta's system alert. */
export function summaryMessageMaxTokens(budget: ContextBudget): number {
  summaryAlertTokens ??= MESSAGE_OVERHEAD_TOKENS + textTokens(summaryMessageText('', 'sliding_window', new Date(0)));
  return budget.summaryMaxTokens + summaryAlertTokens;
}

/**
 * A transcript for the summariser that fits `maxTokens`: the newest lines that fit, after the first
 * line when that is an earlier summary (it carries everything before it; at most half the room).
 */
export function fitTranscript(lines: readonly string[], maxTokens: number, keepFirst: boolean): string {
  const first = keepFirst && lines.length > 0 ? clipToTokens(lines[0], Math.floor(maxTokens / 2)) : null;
  let room = maxTokens - (first === null ? 0 : textTokens(first) + 1);
  const newest: string[] = [];
  for (let index = lines.length - 1; index >= (first === null ? 0 : 1); index--) {
    room -= textTokens(lines[index]) + 1;
    if (room < 0) break;
    newest.unshift(lines[index]);
  }
  return [...(first === null ? [] : [first]), ...newest].join('\n');
}

/** The text cut to about `maxTokens` tokens (by its share of characters), marked as cut. */
export function clipToTokens(text: string, maxTokens: number): string {
  const tokens = textTokens(text);
  if (tokens <= maxTokens) return text;
  return `${text.slice(0, Math.floor((text.length * maxTokens) / tokens))}…`;
}
