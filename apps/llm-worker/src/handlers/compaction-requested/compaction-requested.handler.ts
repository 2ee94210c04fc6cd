import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { COMPACTION_MODES, NOTHING_TO_COMPACT, contextBudget, planCompaction } from '@lrs/domain-run';
import { COMPACTION_REQUESTS, type CompactionReply, type CompactionRequest } from '@lrs/jetstream';
import { ModelCallError } from '@lrs/llm-client';
import { AgentStore, ThreadContextStore } from '@lrs/read-model';
import { ThreadSummarizer } from '../../context/thread-summarizer';

/**
 * Summarises a thread's context for the compact routes: picks what to fold in, asks the model for
 * the summary and answers with it and the ids of what it covers. It writes nothing; the gateway
 * records the result, so a summary that never arrives changes nothing.
 */
@Controller()
export class CompactionRequestedHandler {
  private readonly logger = new Logger(CompactionRequestedHandler.name);

  constructor(
    private readonly agents: AgentStore,
    private readonly contexts: ThreadContextStore,
    private readonly summarizer: ThreadSummarizer,
  ) {}

  @MessagePattern(COMPACTION_REQUESTS)
  async summarize(@Payload() request: CompactionRequest): Promise<CompactionReply> {
    if (!COMPACTION_MODES.includes(request.mode)) return { ok: false, status: 422, detail: `Unknown compaction mode ${request.mode}` };
    const agent = await this.agents.get(request.organizationId, request.agentId);
    if (!agent) return { ok: false, status: 404, detail: `Agent with ID ${request.agentId} not found` };
    const context = await this.contexts.messages(request);
    if (context.length === 0) return { ok: false, status: 400, detail: 'No in-context messages found for this conversation.' };
    const plan = planCompaction(context, request.mode, request.keepFraction);
    if (plan.summarize.length === 0) return { ok: false, status: 400, detail: NOTHING_TO_COMPACT };
    const handle = request.model ?? agent.model ?? 'openai/gpt-4o-mini';
    const summary = await this.summarizer.summarize(handle, plan.summarize.map((message) => message.body), contextBudget(agent.llmConfig), { prompt: request.prompt });
    if (summary instanceof ModelCallError) {
      this.logger.warn(`summary of ${request.laneId} failed: ${summary.message}`);
      return { ok: false, status: 502, detail: `The model could not summarize the conversation: ${summary.message}` };
    }
    return {
      ok: true,
      summary,
      summarizedIds: plan.summarize.map((message) => message.id),
      keptIds: plan.keep.map((message) => message.id),
      contextSize: context.length,
      seenUpToSequence: Math.max(...context.map((message) => message.sequenceId)),
    };
  }
}
