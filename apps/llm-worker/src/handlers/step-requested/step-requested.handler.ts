import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  CONSUMERS,
  laneIdOf,
  newId,
  type AnyRunEvent,
  type ApprovalRequestMessage,
  type ApprovalResponseMessage,
  type ClientTool,
  type LettaMessage,
  type RunEvent,
  type RunEventDraft,
  type StepCompletedData,
} from '@lrs/contracts';
import {
  CONSUMER_POLICIES,
  ConcurrencyConflict,
  JetStreamLifecycle,
  RetryLater,
  RunEventStore,
  RunEventWatcher,
  TokenDeltaBus,
  type HandlerContext,
} from '@lrs/jetstream';
import { ModelCallError, epochMs, modelNameFromHandle, toChatMessages, type ModelReply } from '@lrs/llm-client';
import { AgentStore, RunQueries, ThreadContextStore, systemPromptOf } from '@lrs/read-model';
import { WORKER_SETTINGS, type WorkerSettings } from '../../config/env';
import { ReadModelWaiter } from '../../read-model-waiter';
import { ModelCaller } from '../../model-caller';
import { stepMessages, toolReturnMessages, type ToolOutcome } from '../../step-messages';
import { ServerTools, ToolContext } from '../../tools/server-tools';
import { approvalRequired, toolSchemas } from '../../tools/tool-schemas';
import { approvalResponseOf, denialText, pendingApprovalRequest, resolveApprovals } from '../../approvals';

/**
 * Executes one step of a run: builds the prompt from the read model, calls the model (retrying
 * transient failures a bounded number of times), and appends StepCompleted or StepFailed right
 * behind the StepRequested it answers. If the run moved on meanwhile (cancelled, or another
 * replica already answered a redelivery), the append loses and the result is dropped.
 */
@Injectable()
export class StepRequestedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(StepRequestedHandler.name);
  constructor(
    private readonly jetStream: JetStreamLifecycle,
    private readonly events: RunEventStore,
    private readonly agents: AgentStore,
    private readonly runs: RunQueries,
    private readonly contexts: ThreadContextStore,
    private readonly waiter: ReadModelWaiter,
    private readonly tools: ServerTools,
    private readonly watcher: RunEventWatcher,
    private readonly deltas: TokenDeltaBus,
    private readonly model: ModelCaller,
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jetStream.startConsumer({
      consumer: CONSUMERS.llmWorker,
      eventTypes: ['StepRequested'],
      concurrency: this.settings.concurrency,
      maxDeliver: CONSUMER_POLICIES.llmWorker.maxDeliver,
      // Well inside the consumer's ack_wait so a long model call is never redelivered meanwhile.
      workingEveryMs: this.settings.workingEveryMs,
      handler: (event, context) => this.handle(event, context),
    });
  }

  async handle(event: AnyRunEvent, context: HandlerContext): Promise<void> {
    if (event.type !== 'StepRequested') return;
    try {
      await this.runStep(event, context);
    } catch (error) {
      if (error instanceof RetryLater || !context.isLastAttempt) throw error;
      // Out of redeliveries: fail the step rather than leave the run without a terminal state.
      const message = error instanceof Error ? error.message : String(error);
      await this.appendBehind(event, context, this.failure(event, 'error', 'internal_error', message, context.deliveryCount));
    }
  }

  private async runStep(event: RunEvent<'StepRequested'>, context: HandlerContext): Promise<void> {
    await this.waiter.untilRunReady(event.runId, event.seq - 1, this.settings.projectionWaitMs);
    const [agent, run] = await Promise.all([
      this.agents.get(event.organizationId, event.agentId),
      this.runs.row(event.organizationId, event.runId),
    ]);
    if (!agent || !run) {
      const missing = agent ? `run ${event.runId}` : `agent ${event.agentId}`;
      await this.appendBehind(event, context, this.failure(event, 'error', 'internal_error', `${missing} no longer exists`, 1));
      return;
    }
    const history = (await this.contexts.messages({ agentId: agent.id, laneId: laneIdOf(agent.id, run.conversation_id) }, run.id)).map((m) => m.body);
    const tools = ToolContext.of(agent);
    const assistant = { id: newId('message'), otid: randomUUID() };
    const messageContext = { runId: event.runId, stepId: event.data.stepId, now: new Date(), assistant };

    // A run that answers a pending approval starts by turning the decisions into tool results.
    let resumed: LettaMessage[] = [];
    if (event.data.stepIndex === 1) {
      const pending = pendingApprovalRequest(history.filter((m) => m.run_id !== run.id));
      const response = approvalResponseOf(history, run.id);
      if (pending && !response) {
        const detail = `the agent is waiting for approval of ${pending.tool_calls.map((c) => c.tool_call_id).join(', ')}; send an approval first`;
        await this.appendBehind(event, context, this.failure(event, 'error', 'pending_approval', detail, 1));
        return;
      }
      if (pending && response) resumed = toolReturnMessages(messageContext, await this.resolve(pending, response, tools));
      if (run.resolve_approvals_only) {
        await this.appendBehind(event, context, this.approvalsOnly(event, resumed, tools));
        return;
      }
    }

    const handle = run.override_model ?? agent.model ?? 'openai/gpt-4o-mini';
    const clientTools = (run.client_tools ?? []) as ClientTool[];
    const systemPrompt = systemPromptOf(agent, history.length, (block) => tools.block(block.label)?.value ?? block.value);
    // A cancel appends RunFinished while the model is still answering: stop the request then.
    const abort = new AbortController();
    const stopWatching = this.watcher.watch(event.runId, (next) => {
      if (next.type === 'RunFinished') abort.abort();
    });
    let reply: ModelReply | ModelCallError;
    try {
      const latest = await this.events.latest(event.runId);
      if (latest && latest.event.type === 'RunFinished') return;
      reply = await this.model.completeWithRetries(
        {
          model: modelNameFromHandle(handle),
          messages: toChatMessages(systemPrompt, [...history, ...resumed]),
          tools: toolSchemas(agent.toolNames, clientTools),
          signal: abort.signal,
          onDelta: (delta) => {
            if (delta.text) this.deltas.publish(event.runId, { stepId: event.data.stepId, messageId: assistant.id, otid: assistant.otid, text: delta.text });
          },
        },
        () => context.working(),
      );
    } finally {
      stopWatching();
    }
    if (abort.signal.aborted) {
      this.logger.log(`step ${event.data.stepIndex} of ${event.runId}: run cancelled, model call aborted`);
      return;
    }
    if (reply instanceof ModelCallError) {
      await this.appendBehind(event, context, this.failure(event, 'llm_api_error', reply.errorType, reply.message, this.settings.modelMaxAttempts));
      return;
    }

    const calls = reply.toolCalls.map((call, index) => ({
      name: call.name,
      arguments: call.arguments,
      tool_call_id: call.id || `call_${event.data.stepId.slice(5, 13)}_${index}`,
    }));
    const needsApproval = approvalRequired(agent.toolRules, clientTools);
    const pendingCalls = calls.filter((call) => needsApproval(call.name));
    const outcomes = [];
    for (const call of calls.filter((c) => !needsApproval(c.name))) outcomes.push(await this.tools.execute(call, tools));
    const messages = [...resumed, ...stepMessages(messageContext, reply.text, outcomes, pendingCalls)];
    const counts = { calls: calls.length, pending: pendingCalls.length };
    await this.appendBehind(event, context, this.completion(event, handle, reply, messages, tools, counts, run.approval_timeout_seconds));
  }

  private async resolve(pending: ApprovalRequestMessage, response: ApprovalResponseMessage, tools: ToolContext): Promise<ToolOutcome[]> {
    const outcomes: ToolOutcome[] = [];
    for (const resolution of resolveApprovals(pending, response)) {
      if (resolution.kind === 'returned') outcomes.push({ call: resolution.call, status: resolution.status, output: resolution.output });
      else if (resolution.kind === 'denied') outcomes.push({ call: resolution.call, status: 'error', output: denialText(resolution.reason) });
      else outcomes.push(await this.tools.execute(resolution.call, tools));
    }
    return outcomes;
  }

  private completion(
    event: RunEvent<'StepRequested'>,
    handle: string,
    reply: ModelReply,
    messages: LettaMessage[],
    tools: ToolContext,
    counts: { calls: number; pending: number },
    approvalTimeoutSeconds: number | null,
  ): RunEventDraft {
    const emptyReply = reply.text.length === 0 && counts.calls === 0;
    const stopReason = counts.pending > 0
      ? 'requires_approval'
      : emptyReply
        ? 'invalid_llm_response'
        : reply.finishReason === 'length' && counts.calls === 0
          ? 'max_tokens_exceeded'
          : null;
    return stepCompleted(event, tools, {
      model: modelNameFromHandle(handle),
      modelHandle: handle,
      messages,
      usage: reply.usage,
      // letta_v1_agent: any tool call (successful or not) asks for another step, unless the
      // step paused on calls the client or a human must answer; plain text ends the turn.
      continueLoop: counts.calls > 0 && counts.pending === 0,
      stopReason,
      approvalTimeoutSeconds: counts.pending > 0 ? approvalTimeoutSeconds : null,
      firstTokenAtMs: reply.firstTokenAtMs,
      llmRequestStartedAtMs: reply.requestStartedAtMs,
    });
  }

  /** A run that only answers a pending approval (a cancelled pause): record the results, no model call. */
  private approvalsOnly(event: RunEvent<'StepRequested'>, resumed: LettaMessage[], tools: ToolContext): RunEventDraft {
    return stepCompleted(event, tools, {
      model: 'none',
      modelHandle: 'none',
      messages: resumed,
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      continueLoop: false,
      stopReason: 'cancelled',
      firstTokenAtMs: null,
      llmRequestStartedAtMs: Date.now(),
    });
  }

  private failure(event: RunEvent<'StepRequested'>, stopReason: 'llm_api_error' | 'error', errorType: string, message: string, attempts: number): RunEventDraft {
    return {
      type: 'StepFailed',
      data: { stepId: event.data.stepId, stepIndex: event.data.stepIndex, stopReason, errorType, message, attempts, failedAt: new Date(epochMs()).toISOString() },
    };
  }

  private async appendBehind(event: RunEvent<'StepRequested'>, context: HandlerContext, draft: RunEventDraft): Promise<void> {
    try {
      await this.events.appendAfter({ event, streamSeq: context.streamSeq }, [draft]);
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict)) throw error;
      this.logger.log(`step ${event.data.stepIndex} of ${event.runId}: run moved on, result dropped`);
    }
  }
}

type StepOutcome = Omit<StepCompletedData, 'stepId' | 'stepIndex' | 'maxSteps' | 'memoryEdits' | 'completedAt'>;

/** The StepCompleted answering a StepRequested, with the memory edits its tools made. */
function stepCompleted(event: RunEvent<'StepRequested'>, tools: ToolContext, outcome: StepOutcome): RunEventDraft {
  const { stepId, stepIndex, maxSteps } = event.data;
  return {
    type: 'StepCompleted',
    data: { stepId, stepIndex, maxSteps, ...outcome, memoryEdits: tools.memoryEdits(), completedAt: new Date().toISOString() },
  };
}

