import { randomUUID } from 'node:crypto';
import { messageDate, messageEnvelope, type EventMessage, type LettaMessage, type MessageContent, type StepCompletedData, type SummaryMessage, type UserMessage } from '@lrs/contracts';

export const COMPACTION_MODES = ['all', 'sliding_window', 'self_compact_all', 'self_compact_sliding_window'] as const;
export type CompactionMode = (typeof COMPACTION_MODES)[number];

export const DEFAULT_COMPACTION_MODE: CompactionMode = 'sliding_window';
/** Share of the in-context messages a sliding-window compaction keeps verbatim. */
export const DEFAULT_KEEP_FRACTION = 0.3;

export const DEFAULT_SUMMARY_PROMPT = [
  'Summarize the conversation above so it can replace it in your context.',
  'Keep every fact about the user, decisions made, open tasks and tool results that still matter;',
  'drop pleasantries and repetition. Write in the third person, as plain prose, without a preamble.',
].join(' ');

export const SUMMARIZER_SYSTEM_PROMPT = 'You condense conversations into faithful, compact summaries.';

export interface CompactionPlan<T extends { body: LettaMessage }> {
  summarize: T[];
  keep: T[];
}

/**
 * Which in-context messages a compaction folds into its summary and which it keeps verbatim.
 * The `all` modes summarise everything; the sliding-window modes keep the newest share of the
 * messages, starting at a user message so a kept tool result never loses the call it answers.
 */
export function planCompaction<T extends { body: LettaMessage }>(context: T[], mode: CompactionMode, keepFraction = DEFAULT_KEEP_FRACTION): CompactionPlan<T> {
  if (mode === 'all' || mode === 'self_compact_all') return { summarize: context, keep: [] };
  let cut = context.length - Math.floor(context.length * keepFraction);
  while (cut < context.length && context[cut].body.message_type !== 'user_message') cut++;
  return { summarize: context.slice(0, cut), keep: context.slice(cut) };
}

/** The messages to summarise as a plain transcript, one line per message, for the summariser's prompt. */
export function transcriptLines(messages: readonly LettaMessage[]): string[] {
  const lines: string[] = [];
  for (const message of messages) {
    switch (message.message_type) {
      case 'user_message':
        lines.push(`user: ${textOf(message.content)}`);
        break;
      case 'assistant_message':
        lines.push(`assistant: ${textOf(message.content)}`);
        break;
      case 'system_message':
        lines.push(`system: ${message.content}`);
        break;
      case 'tool_call_message':
      case 'approval_request_message':
        for (const call of message.tool_calls) lines.push(`assistant called ${call.name}(${call.arguments})`);
        break;
      case 'tool_return_message':
        for (const result of message.tool_returns) lines.push(`tool result (${result.status}): ${result.tool_return}`);
        break;
      default:
        break;
    }
  }
  return lines;
}

/**
 * What stands in for the summarised messages in the thread's context: a user message holding
 * Letta's packed system alert, so clients that parse Letta's summaries read ours the same way.
 */
/** The summary as the thread stores it: a message made outside any run, holding `summaryMessageText`. */
export function summaryMessage(summary: string, mode: CompactionMode, now = new Date()): UserMessage {
  return {
    ...messageEnvelope({ runId: null, date: messageDate(now), otid: randomUUID() }),
    message_type: 'user_message',
    content: summaryMessageText(summary, mode, now),
  };
}

export function summaryMessageText(summary: string, mode: CompactionMode, now: Date): string {
  const hidden = mode === 'all' || mode === 'self_compact_all'
    ? 'Note: prior messages have been hidden from view due to conversation memory constraints.'
    : 'Note: prior messages from the beginning of the conversation have been hidden from view due to conversation memory constraints.';
  return JSON.stringify({ type: 'system_alert', message: `${hidden}\nThe following is a summary of the previous messages:\n ${summary}`, time: now.toISOString() });
}

/** A compaction's summary, as `summaryMessageText` packs it into a user message. */
export function isSummaryMessage(message: LettaMessage): boolean {
  return message.message_type === 'user_message' && typeof message.content === 'string' && message.content.startsWith('{"type":"system_alert"');
}

export const DEFAULT_SUMMARY_CLIP_CHARS = 50_000;
const CLIPPED_MARKER = '... [summary truncated to fit]';

/** `clip_chars`: a longer summary is cut to that many characters and marked as cut. */
export function clipSummary(summary: string, clipChars: number | null | undefined = DEFAULT_SUMMARY_CLIP_CHARS): string {
  const trimmed = summary.trim();
  return clipChars && trimmed.length > clipChars ? `${trimmed.slice(0, clipChars)}${CLIPPED_MARKER}` : trimmed;
}

export const NOTHING_TO_COMPACT =
  'Summarization failed to reduce the number of messages. You may not have enough messages to compact or need to use a different CompactionSettings (e.g. using `all` mode).';

function textOf(content: MessageContent): string {
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '[image]')).join('');
}

/**
 * How a step's automatic compaction shows to a request that set include_compaction_messages, as
 * Letta shows it: an event_message that it happened, then the summary_message. Both are derived
 * from the step's event, so every replay of the run shows the same ids.
 */
export function compactionNotices(runId: string, step: Pick<StepCompletedData, 'stepId' | 'compaction' | 'completedAt'>): [EventMessage, SummaryMessage] | [] {
  const { compaction } = step;
  if (!compaction) return [];
  const date = step.completedAt;
  return [
    {
      ...messageEnvelope({ runId, date, id: uuidOf(compaction.summaryMessageId), stepId: step.stepId }),
      message_type: 'event_message',
      event_type: 'compaction',
      event_data: { trigger: compaction.stats.trigger, context_token_estimate: compaction.stats.context_tokens_before, context_window: compaction.stats.context_window },
    },
    {
      ...messageEnvelope({ runId, date, id: compaction.summaryMessageId, stepId: step.stepId }),
      message_type: 'summary_message',
      summary: compaction.summary,
      compaction_stats: compaction.stats,
    },
  ];
}

/** Letta gives the event_message a bare uuid: the summary message's, without its prefix. */
function uuidOf(messageId: string): string {
  return messageId.startsWith('message-') ? messageId.slice('message-'.length) : randomUUID();
}
