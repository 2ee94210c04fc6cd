import { Injectable } from '@nestjs/common';
import type { LettaMessage } from '@lrs/contracts';
import {
  DEFAULT_SUMMARY_PROMPT,
  SUMMARIZER_SYSTEM_PROMPT,
  fitTranscript,
  isSummaryMessage,
  systemPromptTokens,
  textTokens,
  transcriptLines,
  type ContextBudget,
} from '@lrs/domain-run';
import { ModelCallError } from '@lrs/llm-client';
import { ModelCaller } from '../model-caller';

/** Room left in the summariser's own prompt for its wrapping and the model's formatting. */
const SUMMARY_PROMPT_MARGIN_TOKENS = 64;

/**
 * Asks the agent's model to summarise part of a thread, for the compact routes and for the
 * automatic compaction before a step. The summariser's prompt is fitted into the same context
 * window as the agent's own calls: a transcript longer than the window loses its oldest lines
 * (an earlier summary at its head is kept), and the reply is bounded by the budget's summary share.
 */
@Injectable()
export class ThreadSummarizer {
  constructor(private readonly model: ModelCaller) {}

  async summarize(
    handle: string,
    messages: readonly LettaMessage[],
    budget: ContextBudget,
    options: { prompt?: string | null; onRetry?: () => void } = {},
  ): Promise<string | ModelCallError> {
    const instructions = options.prompt ?? DEFAULT_SUMMARY_PROMPT;
    const fixed = systemPromptTokens(SUMMARIZER_SYSTEM_PROMPT) + textTokens(instructions) + SUMMARY_PROMPT_MARGIN_TOKENS;
    const room = Math.max(0, budget.window - budget.summaryMaxTokens - fixed);
    const transcript = fitTranscript(transcriptLines(messages), room, messages.length > 0 && isSummaryMessage(messages[0]));
    const reply = await this.model.completeWithRetries(
      handle,
      {
        messages: [
          { role: 'system', content: SUMMARIZER_SYSTEM_PROMPT },
          { role: 'user', content: `<conversation>\n${transcript}\n</conversation>\n\n${instructions}` },
        ],
        maxTokens: budget.summaryMaxTokens,
      },
      options.onRetry,
    );
    return reply instanceof ModelCallError ? reply : reply.text;
  }
}
