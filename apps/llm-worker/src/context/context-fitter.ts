import { Injectable, Logger } from '@nestjs/common';
import type { LettaMessage, StepCompaction } from '@lrs/contracts';
import {
  clipSummary,
  clipToTokens,
  messageTokens,
  planSlidingWindow,
  summaryMessage,
  type CompactionMode,
  type ContextBudget,
} from '@lrs/domain-run';
import { ModelCallError } from '@lrs/llm-client';
import { ThreadContextStore, type ContextMessage, type ThreadRef } from '@lrs/read-model';
import { ThreadSummarizer } from './thread-summarizer';

export interface ContextRequest {
  thread: ThreadRef;
  runId: string;
  /** The thread's in-context rows as read for this run. */
  rows: ContextMessage[];
  /** Messages of this step not stored yet, none of them among `rows` (the run's input on its first step, resumed tool results). */
  pending: readonly LettaMessage[];
  /** The system prompt's and the tool schemas' tokens. */
  fixedTokens: number;
  budget: ContextBudget;
  /** The model that writes the summary: the run's own. */
  modelHandle: string;
  /** The provider refused the last prompt as too long: summarise everything earlier, at once. */
  afterOverflow?: boolean;
  onRetry?: () => void;
}

export type FittedContext =
  | { kind: 'fits'; history: LettaMessage[]; promptTokens: number; compaction: StepCompaction | null }
  | { kind: 'overflow'; promptTokens: number }
  | { kind: 'error'; error: ModelCallError };

/**
 * Fits a step's prompt into the model's context window (docs/context-window.md). Past the trigger,
 * the thread's earlier messages are compacted the way the compact route does it: the older part
 * becomes a summary the model writes, the newest part is kept, and the thread's context is moved
 * to that before the call, so the next run starts from it too. If the prompt still does not fit,
 * everything earlier is summarised; if even that does not fit (the run's own messages, the system
 * prompt and the tools alone are too long), the step fails with a clear stop reason.
 */
@Injectable()
export class ContextFitter {
  private readonly logger = new Logger(ContextFitter.name);

  constructor(
    private readonly contexts: ThreadContextStore,
    private readonly summarizer: ThreadSummarizer,
  ) {}

  async fit(request: ContextRequest): Promise<FittedContext> {
    const { budget } = request;
    const pendingTokens = request.pending.reduce((sum, message) => sum + messageTokens(message), 0);
    const promptTokens = (rows: readonly ContextMessage[]) => request.fixedTokens + pendingTokens + sumTokens(rows);
    const before = { tokens: promptTokens(request.rows), messages: request.rows.length + request.pending.length };
    let rows = request.rows;
    let compaction: StepCompaction | null = null;
    const modes: CompactionMode[] = request.afterOverflow ? ['all'] : ['sliding_window', 'all'];
    for (const mode of modes) {
      const tokens = promptTokens(rows);
      // The first compaction happens past the trigger; a second only if the prompt still cannot fit.
      const mustCompact = request.afterOverflow === true && compaction === null;
      if (!mustCompact && tokens <= (compaction === null ? budget.compactAbove : budget.promptLimit)) break;
      const earlier = rows.filter((row) => row.body.run_id !== request.runId);
      const own = rows.filter((row) => row.body.run_id === request.runId);
      const plan = mode === 'all'
        ? { summarize: earlier, keep: [] }
        : planSlidingWindow(earlier, budget, { fixedTokens: request.fixedTokens, pendingTokens, ownTokens: sumTokens(own) });
      if (plan.summarize.length === 0) continue;
      const summary = await this.summarizer.summarize(request.modelHandle, plan.summarize.map((row) => row.body), budget, { onRetry: request.onRetry });
      if (summary instanceof ModelCallError) {
        // Without a summary the call may still fit the window itself; otherwise the step fails on the model's error.
        if (tokens <= budget.promptLimit && !mustCompact) break;
        return { kind: 'error', error: summary };
      }
      const text = clipSummary(clipToTokens(summary, budget.summaryMaxTokens));
      const message = summaryMessage(text, mode);
      await this.contexts.compact(request.thread, message, plan.keep.map((row) => row.id), Math.max(...earlier.map((row) => row.sequenceId)));
      rows = await this.contexts.messages(request.thread, { runId: request.runId });
      const after = promptTokens(rows);
      this.logger.log(`thread ${request.thread.laneId} compacted (${mode}) before a step of ${request.runId}: ${tokens} → ${after} prompt tokens`);
      compaction = {
        summaryMessageId: message.id,
        summary: text,
        stats: {
          trigger: request.afterOverflow ? 'context_window_exceeded' : 'context_window_limit',
          context_tokens_before: before.tokens,
          context_tokens_after: after,
          context_window: budget.window,
          messages_count_before: before.messages,
          messages_count_after: rows.length + request.pending.length,
        },
      };
    }
    const tokens = promptTokens(rows);
    if (tokens > budget.promptLimit) return { kind: 'overflow', promptTokens: tokens };
    return { kind: 'fits', history: [...rows.map((row) => row.body), ...request.pending], promptTokens: tokens, compaction };
  }
}

function sumTokens(rows: readonly ContextMessage[]): number {
  return rows.reduce((sum, row) => sum + row.tokens, 0);
}
