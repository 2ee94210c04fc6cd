import { Controller, Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import {
  CONSUMERS,
  newId,
  type AnyRunEvent,
  type ApprovalRequestMessage,
  type ApprovalResponseMessage,
  type LettaMessage,
  type MemoryEdit,
  type ArchivalInsert,
  type BlockChange,
  type RunEvent,
  type StepCompaction,
  type StepCompletedData,
} from '@lrs/contracts';
import { contextBudget, stepVerdict, type StepAnswer, systemPromptTokens, toolSchemaTokens, toolSchemas, type ContextBudget } from '@lrs/domain-run';
import { METRICS } from '@lrs/config';
import {
  RunCommands,
  RunEventStore,
  CancelNotices,
  TokenDeltaBus,
  onRunEvents,
  type HandlerContext,
  type RunEventLog,
} from '@lrs/jetstream';
import { CONTEXT_WINDOW_EXCEEDED, ModelCallError, epochMs, modelNameFromHandle, toChatMessages, type ModelCall, type ModelReply } from '@lrs/llm-client';
import { AgentStore, StepRecords, ThreadContextStore, systemPromptOf, type AgentSnapshot, type StepRecord } from '@lrs/read-model';
import { WORKER_SETTINGS, type WorkerSettings } from '../../config/env';
import { ModelCaller } from '../../model-caller';
import { FaultInjection } from '../../fault-injection';
import { ArchivalMemory, type StepPassage } from '../../archival/archival-memory';
import { sentMessages, stepMessages, toolReturnMessages, type StepMessageContext, type ToolOutcome } from '../../step-messages';
import { ContextFitter, type ContextRequest } from '../../context/context-fitter';
import { ServerTools, ToolContext } from '../../tools/server-tools';
import { approvalRequired } from '../../tools/approval-rules';
import { approvalResponseOf, denialText, pendingApprovalRequest, resolveApprovals } from '../../approvals';

/**
 * Executes one step of a run: builds the prompt from the run's RunCreated (from the log), the
 * agent and its blocks, and the thread's messages (which earlier steps wrote themselves), calls
 * the model (retrying transient failures a bounded number of times), writes the step's messages
 * and memory edits, and appends StepCompleted or StepFailed right behind the StepRequested it
 * answers. Nothing here waits for the projector. If the run moved on meanwhile (cancelled, or
 * another replica already answered a redelivery), the append loses and the result is dropped.
 */
@Controller()
export class StepRequestedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(StepRequestedHandler.name);
  constructor(
    @Inject(RunEventStore) private readonly events: RunEventLog,
    private readonly commands: RunCommands,
    private readonly agents: AgentStore,
    private readonly records: StepRecords,
    private readonly contexts: ThreadContextStore,
    private readonly tools: ServerTools,
    private readonly cancelNotices: CancelNotices,
    private readonly deltas: TokenDeltaBus,
    private readonly model: ModelCaller,
    private readonly fitter: ContextFitter,
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
    private readonly faults: FaultInjection,
    private readonly archival: ArchivalMemory,
  ) {}

  /** Context windows providers stated when they refused a prompt, by model handle: smaller than configured. */
  private readonly statedWindows = new Map<string, number>();

  private budgetFor(handle: string, llmConfig: Record<string, unknown>): ContextBudget {
    const configured = contextBudget(llmConfig);
    const stated = this.statedWindows.get(handle);
    return stated !== undefined && stated < configured.window ? contextBudget({ ...llmConfig, context_window: stated }) : configured;
  }

  /** Model calls in flight by run, aborted when a cancel notice for the run arrives. */
  private readonly inFlight = new Map<string, AbortController>();

  private watchCancel(runId: string, abort: AbortController): () => void {
    this.inFlight.set(runId, abort);
    return () => {
      if (this.inFlight.get(runId) === abort) this.inFlight.delete(runId);
    };
  }

  onApplicationBootstrap(): void {
    this.cancelNotices.subscribe((runId) => this.inFlight.get(runId)?.abort());
  }

  @EventPattern(onRunEvents(CONSUMERS.llmWorker, 'StepRequested'))
  async handle(@Payload() event: AnyRunEvent, @Ctx() context: HandlerContext): Promise<void> {
    if (event.type !== 'StepRequested') return;
    const started = performance.now();
    try {
      await this.runStep(event, context);
      METRICS.steps.observe({ outcome: 'answered' }, (performance.now() - started) / 1000);
    } catch (error) {
      METRICS.steps.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      if (!context.isLastAttempt) throw error;
      // Out of redeliveries: fail the step rather than leave the run without a terminal state.
      this.logger.error(`step ${event.data.stepIndex} of ${event.runId} failed on its last delivery: ${describe(error)}`);
      const created = await this.events.createdOf(event.runId, event.data.createdStreamSeq).catch(() => null);
      const input = event.data.stepIndex === 1 && created ? created.data.input : [];
      await this.commit(event, context, this.failure(event, 'error', 'internal_error', 'the step could not be run', context.deliveryCount), input, {
        bestEffortRecords: true,
      });
    }
  }

  private async runStep(event: RunEvent<'StepRequested'>, context: HandlerContext): Promise<void> {
    // Everything the prompt needs is read at once. A redelivery may find the run already past this
    // step (answered before a crash, or cancelled): then the reads were in vain, which is rare.
    const [latest, created, agentAsRead, threadRows] = await Promise.all([
      this.events.latest(event.runId, context.streamSeq),
      this.events.createdOf(event.runId, event.data.createdStreamSeq),
      this.agents.get(event.organizationId, event.agentId),
      this.threadBefore(event, { agentId: event.agentId, laneId: event.laneId }),
    ]);
    if (!latest || latest.streamSeq !== context.streamSeq) {
      if (context.deliveryCount > 1) await this.settleLostAppend(event, context);
      return;
    }
    // An earlier attempt of this step (its worker died after its write) may have created, deleted or renamed blocks: not in the log, so not in this attempt's view.
    const agent =
      agentAsRead && context.deliveryCount > 1 && (await this.records.takeBackBlockChanges(this.recordOf(event, [], [], []).owner, event.data.stepId))
        ? await this.agents.get(event.organizationId, event.agentId)
        : agentAsRead;
    if (!agent || !created) {
      const missing = agent ? `run ${event.runId}` : `agent ${event.agentId}`;
      await this.commit(event, context, this.failure(event, 'error', 'internal_error', `${missing} no longer exists`, 1), []);
      return;
    }
    const run = created.data;
    // The run's input joins its thread with the first step (written together with that step).
    const input = event.data.stepIndex === 1 ? run.input : [];
    const stored = threadRows.map((m) => m.body);
    const storedIds = new Set(stored.map((message) => message.id));
    const unstoredInput = input.filter((message) => !storedIds.has(message.id));
    const history = [...stored, ...unstoredInput];
    const tools = ToolContext.of(agent, { blockChanges: true });
    const messageContext: StepMessageContext = {
      runId: event.runId,
      stepId: event.data.stepId,
      now: new Date(),
      assistant: { id: newId('message'), otid: randomUUID() },
      reasoning: { id: newId('message'), otid: randomUUID() },
    };

    // A run that answers a pending approval starts by turning the decisions into tool results.
    let resumed: LettaMessage[] = [];
    if (event.data.stepIndex === 1) {
      const pending = pendingApprovalRequest(history.filter((m) => m.run_id !== event.runId));
      const response = approvalResponseOf(history, event.runId);
      if (pending && !response) {
        const detail = `the agent is waiting for approval of ${pending.tool_calls.map((c) => c.tool_call_id).join(', ')}; send an approval first`;
        await this.commit(event, context, this.failure(event, 'error', 'pending_approval', detail, 1), input);
        return;
      }
      if (pending && response) resumed = toolReturnMessages(messageContext, await this.whileToolsRun(event, context, tools, () => this.resolve(pending, response, tools)));
      if (run.resolveApprovalsOnly) {
        await this.commit(event, context, this.approvalsOnly(event, resumed, tools), input, { tools });
        return;
      }
    }

    const handle = run.overrideModel ?? agent.model ?? 'openai/gpt-4o-mini';
    const clientTools = run.clientTools ?? [];
    const schemas = toolSchemas([...tools.tools.values()].map((tool) => tool.jsonSchema), clientTools);
    const compile = (messageCount: number) => systemPromptOf(agent, messageCount, (block) => tools.block(block.label)?.value ?? block.value);
    const thread = { organizationId: event.organizationId, agentId: event.agentId, laneId: event.laneId };
    const fitRequest: ContextRequest = {
      thread,
      runId: event.runId,
      rows: threadRows,
      pending: [...unstoredInput, ...resumed],
      fixedTokens: systemPromptTokens(compile(history.length)) + toolSchemaTokens(schemas),
      budget: this.budgetFor(handle, agent.llmConfig),
      modelHandle: handle,
      onRetry: () => context.working(),
    };
    let fitted = await this.fitter.fit(fitRequest);
    let compaction = fitted.kind === 'fits' ? fitted.compaction : null;
    let reply: ModelReply | ModelCallError | typeof ABORTED | null = null;
    // A provider that still refuses the prompt as too long gets one more try after a harder compaction.
    for (let attempt = 1; attempt <= 2 && fitted.kind === 'fits'; attempt++) {
      reply = await this.callModel(event, context, { handle, llmConfig: agent.llmConfig, systemPrompt: compile(fitted.history.length), history: fitted.history, tools: schemas, ids: messageContext });
      if (!(reply instanceof ModelCallError) || reply.errorType !== CONTEXT_WINDOW_EXCEEDED || attempt === 2) break;
      this.logger.warn(`step ${event.data.stepIndex} of ${event.runId}: ${reply.message}; compacting harder`);
      const rows = await this.threadBefore(event, thread);
      // The refusal may name the model's real window, smaller than the agent's llm_config says: fit to that, from now on.
      if (reply.contextWindow !== null) this.statedWindows.set(handle, reply.contextWindow);
      fitted = await this.fitter.fit({ ...fitRequest, rows, budget: this.budgetFor(handle, agent.llmConfig), afterOverflow: true });
      if (fitted.kind === 'fits') compaction = fitted.compaction ?? compaction;
    }
    if (fitted.kind === 'error') {
      const { error } = fitted;
      await this.commit(event, context, this.failure(event, 'llm_api_error', error.errorType, `the thread could not be compacted: ${error.message}`, this.settings.modelMaxAttempts), input);
      return;
    }
    if (fitted.kind === 'overflow' || reply === null) {
      const detail = `the prompt needs ${fitted.promptTokens} tokens even with the thread compacted; the model's window leaves ${this.budgetFor(handle, agent.llmConfig).promptLimit}`;
      await this.commit(event, context, this.failure(event, 'context_window_overflow_in_system_prompt', 'context_window_overflow', detail, 1), input);
      return;
    }
    if (reply === ABORTED) {
      this.logger.log(`step ${event.data.stepIndex} of ${event.runId}: run cancelled, model call aborted`);
      if (input.length) await this.records.write(this.recordOf(event, input, [], []));
      return;
    }
    if (reply instanceof ModelCallError) {
      const stopReason = reply.errorType === CONTEXT_WINDOW_EXCEEDED ? 'context_window_overflow_in_system_prompt' : 'llm_api_error';
      await this.commit(event, context, this.failure(event, stopReason, reply.errorType, reply.message, this.settings.modelMaxAttempts), input);
      return;
    }

    const calls = reply.toolCalls.map((call, index) => ({
      name: call.name,
      arguments: call.arguments,
      tool_call_id: call.id || `call_${event.data.stepId.slice(5, 13)}_${index}`,
    }));
    const needsApproval = approvalRequired(agent.toolRules, clientTools);
    const pendingCalls = calls.filter((call) => needsApproval(call.name));
    const outcomes = await this.whileToolsRun(event, context, tools, async () => {
      const done: ToolOutcome[] = [];
      for (const call of calls.filter((c) => !needsApproval(c.name))) done.push(await this.tools.execute(call, tools));
      return done;
    });
    const messages = [...resumed, ...stepMessages(messageContext, reply, outcomes, pendingCalls)];
    // A send_message call answers the user and ends the turn, as a text answer does (Letta's terminal tool).
    const sent = sentMessages(outcomes);
    const counts = { calls: sent.length ? 0 : calls.length, pending: pendingCalls.length, textLength: reply.text.length + sent.join('').length };
    await this.commit(event, context, this.completion(event, handle, reply, messages, tools, counts, run.approvalTimeoutSeconds ?? null, compaction), input, { tools });
  }

  /**
   * Runs the step's tools with the delivery kept alive (a sandboxed tool may take its whole time
   * limit, longer than the consumer's ack wait) and stopped by the run's cancel.
   */
  private async whileToolsRun<T>(event: RunEvent<'StepRequested'>, context: HandlerContext, tools: ToolContext, work: () => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const stopWatching = this.watchCancel(event.runId, abort);
    const keepAlive = setInterval(() => context.working(), this.settings.workingEveryMs);
    tools.signal = abort.signal;
    try {
      return await work();
    } finally {
      clearInterval(keepAlive);
      stopWatching();
      tools.signal = undefined;
    }
  }

  /**
   * The thread's in-context rows before this step. Rows of this step itself are an earlier
   * attempt's (a worker that died after its write): the model must not see a tool call that this
   * attempt will replace, or take back, as if it had happened.
   */
  private async threadBefore(event: RunEvent<'StepRequested'>, thread: { agentId: string; laneId: string }) {
    const rows = await this.contexts.messages(thread, { runId: event.runId });
    return rows.filter((row) => row.body.step_id !== event.data.stepId);
  }

  /**
   * One model call with the fitted prompt, streaming its text and reasoning to token-streaming
   * clients. A cancel appends RunFinished while the model is still answering: the request stops then.
   */
  private async callModel(
    event: RunEvent<'StepRequested'>,
    context: HandlerContext,
    call: { handle: string; llmConfig: Record<string, unknown>; systemPrompt: string; history: LettaMessage[]; tools: ReturnType<typeof toolSchemas>; ids: StepMessageContext },
  ): Promise<ModelReply | ModelCallError | typeof ABORTED> {
    const abort = new AbortController();
    const stopWatching = this.watchCancel(event.runId, abort);
    const { stepId } = event.data;
    const { assistant, reasoning } = call.ids;
    try {
      const reply = await this.model.completeWithRetries(
        call.handle,
        {
          messages: toChatMessages(call.systemPrompt, call.history),
          tools: call.tools,
          signal: abort.signal,
          ...modelOptionsOf(call.llmConfig),
          onDelta: (delta) => {
            if (delta.text && assistant) this.deltas.publish(event.runId, { stepId, messageId: assistant.id, otid: assistant.otid, text: delta.text });
            if (delta.reasoning && reasoning) this.deltas.publish(event.runId, { stepId, messageId: reasoning.id, otid: reasoning.otid, text: delta.reasoning, kind: 'reasoning' });
          },
        },
        () => context.working(),
      );
      return abort.signal.aborted ? ABORTED : reply;
    } finally {
      stopWatching();
    }
  }

  /**
   * Records what the step leaves in its thread, then appends its event right behind the
   * StepRequested it answers. Writing first means that whoever acts on the event (the next step,
   * the next run of the thread, the callback) finds the thread complete without waiting for the
   * projector. If the append loses (the run was cancelled meanwhile, or another attempt of this
   * step answered first), the rows are made to match the log again.
   */
  private async commit(
    event: RunEvent<'StepRequested'>,
    context: HandlerContext,
    draft: StepAnswer,
    input: readonly LettaMessage[],
    options: { bestEffortRecords?: boolean; tools?: ToolContext } = {},
  ): Promise<void> {
    const messages = draft.type === 'StepCompleted' ? draft.data.messages : [];
    const edits = draft.type === 'StepCompleted' ? (draft.data.memoryEdits ?? []) : [];
    const changes = draft.type === 'StepCompleted' ? (draft.data.blockChanges ?? []) : [];
    const passages = draft.type === 'StepCompleted' && options.tools ? { agent: options.tools.agent, inserts: options.tools.archivalInserts } : null;
    const writing = this.records.write({ ...this.recordOf(event, input, messages, edits, passages), blockChanges: changes });
    let answer = draft;
    if (options.bestEffortRecords) {
      // The last delivery ends the run even if Postgres is down; the projector adds the input later.
      await writing.catch((error) => this.logger.warn(`step ${event.data.stepIndex} of ${event.runId}: messages not written: ${describe(error)}`));
    } else {
      // The event tells what was committed: edits as applied (value, version), refused ones as their tool call's error.
      const written = await writing;
      if (answer.type === 'StepCompleted') answer = { ...answer, data: { ...withBlockChanges(answer.data, written.blockChanges), messages: written.messages, memoryEdits: written.memoryEdits } };
    }
    await this.faults.afterStepWrite(messages, context.deliveryCount);
    const answered = await this.commands.executeAfter({ event, streamSeq: context.streamSeq }, { kind: 'stepOutcome', stepId: event.data.stepId, answer });
    if (answered.kind === 'appended') return;
    this.logger.log(`step ${event.data.stepIndex} of ${event.runId}: run moved on, result dropped`);
    await this.settleLostAppend(event, context);
  }

  /** Makes this step's rows match whatever the log holds right after its StepRequested. */
  private async settleLostAppend(event: RunEvent<'StepRequested'>, context: HandlerContext): Promise<void> {
    const answer = await this.events.nextOf(event.runId, context.streamSeq + 1);
    if (answer?.event.type === 'StepCompleted' && answer.event.data.stepId === event.data.stepId) {
      const { messages, memoryEdits, archivalInserts = [], blockChanges = [] } = answer.event.data;
      const created = event.data.stepIndex === 1 ? await this.events.createdOf(event.runId, event.data.createdStreamSeq) : null;
      const passages = archivalInserts.length ? await this.passagesFromLog(event, archivalInserts) : null;
      await this.records.write({
        ...this.recordOf(event, created?.data.input ?? [], messages, memoryEdits ?? [], passages),
        blockChanges,
        fromLog: true,
        passageIds: archivalInserts.map((insert) => insert.id),
      });
    } else {
      await this.records.discard(this.recordOf(event, [], [], []).owner, event.data.stepId);
    }
  }

  private recordOf(
    event: RunEvent<'StepRequested'>,
    input: readonly LettaMessage[],
    messages: readonly LettaMessage[],
    memoryEdits: readonly MemoryEdit[],
    passages: { agent: AgentSnapshot; inserts: readonly StepPassage[] } | null = null,
  ): StepRecord {
    const owner = { organizationId: event.organizationId, agentId: event.agentId, laneId: event.laneId, runId: event.runId };
    const record: StepRecord = { owner, stepId: event.data.stepId, input, messages, memoryEdits };
    if (!passages?.inserts.length) return record;
    const { agent, inserts } = passages;
    const writer = { agentId: event.agentId, runId: event.runId, stepId: event.data.stepId };
    return {
      ...record,
      passageIds: inserts.map((insert) => insert.id),
      alsoWrite: (manager) => ArchivalMemory.writeStepPassages(manager, agent, this.archival.embeddingHandleOf(agent), writer, inserts),
    };
  }

  /** A step outcome's passages as the log holds them, with their vectors (embedded again where not stored). */
  private async passagesFromLog(event: RunEvent<'StepRequested'>, inserts: readonly ArchivalInsert[]): Promise<{ agent: AgentSnapshot; inserts: StepPassage[] } | null> {
    const agent = await this.agents.get(event.organizationId, event.agentId);
    if (!agent) return null;
    const passages = await this.archival.fromLog(agent, inserts);
    if (passages instanceof ModelCallError) throw passages;
    return { agent, inserts: passages };
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
    counts: { calls: number; pending: number; textLength: number },
    approvalTimeoutSeconds: number | null,
    compaction: StepCompaction | null,
  ): StepAnswer {
    return stepCompleted(event, tools, {
      model: modelNameFromHandle(handle),
      modelHandle: handle,
      messages,
      usage: reply.usage,
      ...stepVerdict({ textLength: counts.textLength, calls: counts.calls, pendingCalls: counts.pending, finishReason: reply.finishReason }),
      approvalTimeoutSeconds: counts.pending > 0 ? approvalTimeoutSeconds : null,
      firstTokenAtMs: reply.firstTokenAtMs,
      llmRequestStartedAtMs: reply.requestStartedAtMs,
      ...(compaction ? { compaction } : {}),
    });
  }

  /** A run that only answers a pending approval (a cancelled pause): record the results, no model call. */
  private approvalsOnly(event: RunEvent<'StepRequested'>, resumed: LettaMessage[], tools: ToolContext): StepAnswer {
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

  private failure(event: RunEvent<'StepRequested'>, stopReason: 'llm_api_error' | 'error' | 'context_window_overflow_in_system_prompt', errorType: string, message: string, attempts: number): StepAnswer {
    return {
      type: 'StepFailed',
      data: { stepId: event.data.stepId, stepIndex: event.data.stepIndex, stopReason, errorType, message, attempts, failedAt: new Date(epochMs()).toISOString() },
    };
  }

}

type StepOutcome = Omit<StepCompletedData, 'stepId' | 'stepIndex' | 'maxSteps' | 'memoryEdits' | 'archivalInserts' | 'blockChanges' | 'completedAt'>;

/** The event carries the block changes as committed (a refused one answers as its tool call's error); none: no field. */
function withBlockChanges(data: StepCompletedData, changes: BlockChange[]): StepCompletedData {
  const { blockChanges: _drafted, ...rest } = data;
  return changes.length ? { ...rest, blockChanges: changes } : rest;
}

/** The StepCompleted answering a StepRequested, with the memory edits its tools made. */
function stepCompleted(event: RunEvent<'StepRequested'>, tools: ToolContext, outcome: StepOutcome): StepAnswer {
  const { stepId, stepIndex, maxSteps } = event.data;
  return {
    type: 'StepCompleted',
    data: {
      stepId,
      stepIndex,
      maxSteps,
      ...outcome,
      memoryEdits: tools.memoryEdits(),
      ...(tools.archivalInserts.length ? { archivalInserts: tools.archivalInserts.map(({ embedding: _embedding, ...insert }) => insert) } : {}),
      ...(tools.blockChanges().length ? { blockChanges: tools.blockChanges() } : {}),
      completedAt: new Date().toISOString(),
    },
  };
}


/** The answer of a model call the run's cancel aborted. */
const ABORTED = Symbol('aborted');

/** What the agent's llm_config asks of every model call: a reply bound, and reasoning where the endpoint takes it. */
function modelOptionsOf(llmConfig: Record<string, unknown>): Pick<ModelCall, 'maxTokens' | 'reasoningEffort' | 'enableThinking'> {
  return {
    maxTokens: typeof llmConfig.max_tokens === 'number' ? llmConfig.max_tokens : null,
    reasoningEffort: typeof llmConfig.reasoning_effort === 'string' ? llmConfig.reasoning_effort : null,
    enableThinking: llmConfig.enable_reasoner === true,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
