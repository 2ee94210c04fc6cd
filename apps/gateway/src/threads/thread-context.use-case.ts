import { BadRequestException, ConflictException, HttpException, Inject, Injectable } from '@nestjs/common';
import type { LettaMessage } from '@lrs/contracts';
import {
  DEFAULT_COMPACTION_MODE,
  DEFAULT_KEEP_FRACTION,
  DEFAULT_SUMMARY_CLIP_CHARS,
  clipSummary,
  contextBudget,
  isSummaryMessage,
  isTerminalEvent,
  summaryMessage,
  systemPromptTokens,
  textTokens,
  toolSchemaTokens,
  toolSchemas,
} from '@lrs/domain-run';
import { CompactionRequests, LaneStore, RunEventStore } from '@lrs/jetstream';
import { ConversationStore, ThreadContextStore, agentTools, memorySectionsOf, systemPromptOf, toAgentView, type ConversationView } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { ThreadResolver, type Thread } from './thread-resolver';
import type { CompactionSettingsDto } from './thread-context.dto';

/**
 * Changes to what a thread shows the model. They take effect between runs: while a run of the
 * thread is queued or running they answer 409, so no run ever sees half of its context moved.
 */
@Injectable()
export class ThreadContextUseCase {
  constructor(
    private readonly threads: ThreadResolver,
    private readonly conversations: ConversationStore,
    private readonly contexts: ThreadContextStore,
    private readonly lanes: LaneStore,
    private readonly events: RunEventStore,
    private readonly compactions: CompactionRequests,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  /**
   * The system prompt the thread's next model call gets. It is compiled at every step from the
   * current memory blocks, so there is nothing stale to rebuild and `dry_run` changes nothing.
   */
  async compiledSystemPrompt(thread: Thread): Promise<string> {
    const agent = await this.threads.agent(thread.agentId);
    const context = await this.contexts.messages(thread, { inProgress: await this.runInProgress(thread) });
    return systemPromptOf(agent, context.length);
  }

  /**
   * Letta's context window overview: what the thread's next model call would hold, counted in
   * tokens part by part (the same count that decides when a step compacts the thread).
   */
  async contextOverview(thread: Thread) {
    const agent = await this.threads.agent(thread.agentId);
    const context = await this.contexts.messages(thread, { inProgress: await this.runInProgress(thread) });
    const systemPrompt = systemPromptOf(agent, context.length);
    const { coreMemory, memoryMetadata } = memorySectionsOf(agent, context.length);
    const functions = toolSchemas(agentTools(agent).map((tool) => tool.jsonSchema), []);
    const summary = context.length > 0 && isSummaryMessage(context[0].body) ? context[0] : null;
    const messages = summary ? context.slice(1) : context;
    const tokens = {
      system: systemPromptTokens(systemPrompt) - textTokens(coreMemory) - textTokens(memoryMetadata),
      coreMemory: textTokens(coreMemory),
      memoryMetadata: textTokens(memoryMetadata),
      summary: summary?.tokens ?? 0,
      functions: toolSchemaTokens(functions),
      messages: messages.reduce((sum, message) => sum + message.tokens, 0),
    };
    return {
      context_window_size_max: contextBudget(agent.llmConfig).window,
      context_window_size_current: Object.values(tokens).reduce((sum, count) => sum + count, 0),
      // Letta counts the system message among the in-context messages.
      num_messages: context.length + 1,
      num_archival_memory: 0,
      num_recall_memory: context.length,
      num_tokens_external_memory_summary: tokens.memoryMetadata,
      external_memory_summary: memoryMetadata,
      num_tokens_system: tokens.system,
      system_prompt: systemPrompt,
      num_tokens_core_memory: tokens.coreMemory,
      core_memory: coreMemory,
      num_tokens_memory_filesystem: 0,
      memory_filesystem: null,
      num_tokens_tool_usage_rules: 0,
      tool_usage_rules: null,
      num_tokens_directories: 0,
      directories: [],
      num_tokens_summary_memory: tokens.summary,
      summary_memory: summary ? textOfContent(summary.body) : null,
      num_tokens_functions_definitions: tokens.functions,
      functions_definitions: functions,
      num_tokens_messages: tokens.messages,
      messages: messages.map((message) => message.body),
    };
  }

  /** Letta's reset: the thread's messages are deleted and its context starts empty. */
  async reset(thread: Thread) {
    await this.requireIdle(thread, 'reset its messages');
    await this.contexts.reset(thread);
    return toAgentView(await this.threads.agent(thread.agentId));
  }

  /**
   * A new conversation of the same agent that starts from the thread's in-context messages (up
   * to and including `uptoMessageId`); the messages are shared, not copied. A hidden fork is left
   * out of conversation listings.
   */
  async fork(thread: Thread, options: { uptoMessageId?: string; hidden?: boolean }): Promise<ConversationView> {
    const context = await this.contexts.messages(thread, { inProgress: await this.runInProgress(thread) });
    let inherited = context;
    if (options.uptoMessageId) {
      const index = context.findIndex((message) => message.id === options.uptoMessageId);
      if (index < 0) throw new BadRequestException({ detail: `Message ${options.uptoMessageId} is not in the context of conversation ${thread.conversationId ?? 'default'}` });
      inherited = context.slice(0, index + 1);
    }
    const source = thread.conversationId ? await this.conversations.get(thread.organizationId, thread.conversationId) : null;
    return this.conversations.create(thread.organizationId, thread.agentId, {
      summary: null,
      model: source?.model ?? null,
      inheritedMessageIds: inherited.map((message) => message.id),
      hidden: options.hidden,
    });
  }

  /**
   * Folds the older part of the thread's context into a summary the model writes (in an
   * llm-worker), then makes the context the summary plus what was kept. Earlier messages stay in
   * the history. Counts include the system message, as Letta's do.
   */
  async compact(thread: Thread, settings: CompactionSettingsDto | null | undefined) {
    await this.requireIdle(thread, 'compact its messages');
    const mode = settings?.mode ?? DEFAULT_COMPACTION_MODE;
    const reply = await this.compactions.request(
      {
        organizationId: thread.organizationId,
        agentId: thread.agentId,
        laneId: thread.laneId,
        mode,
        prompt: settings?.prompt ?? null,
        model: settings?.model ?? null,
        keepFraction: settings?.sliding_window_percentage ?? DEFAULT_KEEP_FRACTION,
      },
      this.settings.compactionTimeoutMs,
    );
    if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
    const summary = clipSummary(reply.summary, settings?.clip_chars === undefined ? DEFAULT_SUMMARY_CLIP_CHARS : settings.clip_chars);
    await this.contexts.compact(thread, summaryMessage(summary, mode), reply.keptIds, reply.seenUpToSequence);
    return { summary, num_messages_before: reply.contextSize + 1, num_messages_after: reply.keptIds.length + 2 };
  }

  /** The thread's run that has started and not ended (per the log, not the read model), if any. */
  private async runInProgress(thread: Thread, active: string | null | undefined = undefined): Promise<string | null> {
    if (active === undefined) active = (await this.lanes.read(thread.laneId)).active?.runId ?? null;
    if (!active) return null;
    const latest = await this.events.latest(active);
    return latest && !isTerminalEvent(latest.event) ? active : null;
  }

  private async requireIdle(thread: Thread, action: string): Promise<void> {
    const lane = await this.lanes.read(thread.laneId);
    // A run that has ended may hold the lane a moment longer (the orchestrator releases it): not busy.
    const busy = lane.waiting[0]?.runId ?? (await this.runInProgress(thread, lane.active?.runId ?? null));
    if (busy) {
      const where = thread.conversationId ? `conversation ${thread.conversationId}` : `agent ${thread.agentId}`;
      throw new ConflictException({ detail: `CONFLICT: Cannot ${action} while run ${busy} of ${where} is queued or running; wait for it or cancel it`, run_id: busy });
    }
  }
}

function textOfContent(message: LettaMessage): string | null {
  return message.message_type === 'user_message' && typeof message.content === 'string' ? message.content : null;
}
