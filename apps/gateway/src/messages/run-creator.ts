import { createHash } from 'node:crypto';
import { ConflictException, HttpStatus, Inject, Injectable, Logger, NotFoundException, ServiceUnavailableException, UnprocessableEntityException } from '@nestjs/common';
import { buildRunEvent, derivedId, laneIdOf, newId, type ApprovalRequestMessage, type LettaMessage, type RunEvent, type RunView } from '@lrs/contracts';
import { denyAll, enqueueAndGrant } from '@lrs/domain-run';
import { IdempotencyKeys, RunCommands, LaneStore, RunEventStore, exceedsMaxPayload } from '@lrs/jetstream';
import { METRICS, pollUntil } from '@lrs/config';
import { MessageQueries, RunProjection, RunQueries, runViewFromCreated } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import type { LettaRequestDto, MessageItem } from './dto/letta-request.dto';
import { checkApprovalRules } from './approval-rules';
import { inputProblem, renderInputMessages } from './input-messages';
import { parseMessageItems } from './message-items';
import { AdmissionControl, Overloaded } from '../admission/admission-control';
import { RunReader } from '../runs/run-reader';
import { callerOrganization, currentCaller } from '../auth/caller';
import { requireAllowedModel } from '../auth/allowed-models';

export const DEFAULT_MAX_STEPS = 50;


export interface RunOptions {
  runType: 'send_message' | 'send_message_async' | 'send_message_streaming' | 'send_conversation_message';
  background: boolean;
  callbackUrl?: string | null;
  /** The conversation the run belongs to (its own lane and history); null for the agent's default thread. */
  conversationId?: string | null;
  /** The request's Idempotency-Key header: the run id derives from it. */
  idempotencyKey?: string | null;
  /** The run's id, chosen by the caller (a schedule's firing derives it): an earlier attempt's run is found, not doubled. */
  runId?: string;
  /** Added to the run's metadata (a schedule's firing records its schedule). */
  metadata?: Record<string, unknown>;
}

/** A request turned into the run it will start, validated against the agent's current state. */
export interface PreparedRun {
  runId: string;
  agentId: string;
  input: LettaMessage[];
  event: RunEvent<'RunCreated'>;
  /** The run an earlier attempt of this same request (same message otids) already created. */
  existing: RunView | null;
}

/**
 * Creates runs for every send route. A run exists once RunCreated is acknowledged by JetStream;
 * only then does the client get its answer. The gateway then queues the run on its lane (so a
 * message sent after this answer always runs after this run) and applies RunCreated to the read
 * model itself, so an immediate GET finds the run; the orchestrator and projector repeat both
 * idempotently, which covers a gateway that dies in between.
 */
@Injectable()
export class RunCreator {
  private readonly logger = new Logger(RunCreator.name);

  constructor(
    private readonly messages: MessageQueries,
    private readonly events: RunEventStore,
    private readonly commands: RunCommands,
    private readonly lanes: LaneStore,
    private readonly projection: RunProjection,
    private readonly admission: AdmissionControl,
    private readonly idempotencyKeys: IdempotencyKeys,
    private readonly runs: RunQueries,
    private readonly reader: RunReader,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  /** Validates the request against the agent (404, 422, 400/409 approval rules) and builds its RunCreated. */
  async prepare(agentId: string, body: LettaRequestDto, options: RunOptions): Promise<PreparedRun> {
    const release = this.admission.admit();
    try {
      return await this.prepareAdmitted(agentId, body, options);
    } finally {
      release();
    }
  }

  /**
   * ORG_MAX_RUNS_IN_FLIGHT: one organization cannot starve the others. The count is the read
   * model's, which the gateway writes at create: it may count a just-ended run a moment longer.
   */
  private async requireRoomForOrganization(): Promise<void> {
    const cap = this.settings.organizationMaxRunsInFlight;
    if (cap <= 0) return;
    const inFlight = await this.runs.activeCount(callerOrganization());
    if (inFlight >= cap) {
      const detail = `Your organization has ${inFlight} runs queued or running, the most this server allows; the run was not created. Retry shortly.`;
      throw new Overloaded(detail, 1, HttpStatus.TOO_MANY_REQUESTS);
    }
  }

  private async prepareAdmitted(agentId: string, body: LettaRequestDto, options: RunOptions): Promise<PreparedRun> {
    requireAllowedModel(this.settings.allowedModels, body.override_model, 'override_model');
    const problem = inputProblem(body);
    await this.requireRoomForOrganization();
    if (problem) throw new UnprocessableEntityException({ detail: problem });
    const { items, problems } = body.messages ? parseMessageItems(body.messages) : { items: null, problems: [] };
    if (problems.length) throw new UnprocessableEntityException({ detail: `Invalid request: ${problems.join('; ')}` });
    const conversationId = options.conversationId ?? null;
    const idempotency = options.idempotencyKey ? idempotencyOf(callerOrganization(), conversationId ?? agentId, options, body) : null;
    const runId = options.runId ?? idempotency?.runId ?? runIdFor(conversationId ?? agentId, items);
    // Only a run id given, or derived from an Idempotency-Key or the messages' otids, can have been created by an earlier attempt.
    const retriable = options.runId !== undefined || idempotency !== null || (!!items?.length && items.every((item) => !!item.otid));
    const [{ agentFound, pending: pendingNow }, existing] = await Promise.all([
      this.messages.agentWithPendingApproval(callerOrganization(), agentId, conversationId),
      // As the log has it: a retry after the run ended must see it ended, however the projection lags.
      retriable ? this.reader.findOrNull(runId) : null,
    ]);
    if (!agentFound) throw new NotFoundException({ detail: 'Agent not found' });
    const pending = existing ? null : pendingNow;
    if (!existing) checkApprovalRules(items, pending);
    if (idempotency) await this.claimIdempotencyKey(idempotency);

    const now = new Date();
    const input = renderInputMessages({ messages: items, input: body.input }, { runId, now, pending });
    const event = this.runCreated(agentId, runId, now, input, {
      maxSteps: body.max_steps ?? DEFAULT_MAX_STEPS,
      callbackUrl: options.callbackUrl ?? null,
      background: options.background,
      runType: options.runType,
      conversationId,
      body,
      metadata: options.metadata,
    });
    return { runId, agentId, input, event, existing };
  }

  /**
   * A run that only answers the agent's pending approval with denials (cancelling a paused run):
   * it records the denials without calling the model, so the agent is no longer stuck.
   */
  prepareDenial(agentId: string, pending: ApprovalRequestMessage, reason: string, conversationId: string | null = null): PreparedRun {
    const runId = newId('run');
    const now = new Date();
    const denial = denyAll(runId, pending.tool_calls.map((call) => call.tool_call_id), reason, now);
    const input = [denial];
    const event = this.runCreated(agentId, runId, now, input, { maxSteps: 1, callbackUrl: null, background: true, runType: 'send_message_async', conversationId });
    event.data.resolveApprovalsOnly = true;
    return { runId, agentId, input, event, existing: null };
  }

  /** Appends RunCreated (the moment the run exists), queues it and makes it readable. */
  async commit(prepared: PreparedRun): Promise<RunView> {
    if (prepared.existing) return prepared.existing;
    const { event } = prepared;
    let streamSeq: number | null;
    try {
      streamSeq = await this.commands.create(event);
    } catch (error) {
      if (exceedsMaxPayload(error)) throw error;
      this.logger.error(`could not append RunCreated for ${event.runId}: ${String(error)}`);
      // Nothing was stored, so the client's automatic retry of the same body is safe.
      throw new ServiceUnavailableException({ detail: 'The event log is unavailable; the run was not created. Retry shortly.' });
    }
    if (streamSeq === null) return this.createdByAnotherAttempt(event.runId);
    METRICS.runsCreated.inc();
    await Promise.all([this.joinLane(event, streamSeq), this.projectRightAway(event, streamSeq)]);
    return runViewFromCreated(event);
  }

  /** The first request with a key owns it; the same key with another body is refused. */
  private async claimIdempotencyKey(idempotency: { keyId: string; bodyDigest: string; runId: string }): Promise<void> {
    let claim;
    try {
      claim = await this.idempotencyKeys.claim(idempotency.keyId, idempotency.bodyDigest, idempotency.runId);
    } catch (error) {
      this.logger.error(`could not claim an Idempotency-Key: ${String(error)}`);
      throw new ServiceUnavailableException({ detail: 'The event log is unavailable; the run was not created. Retry shortly.' });
    }
    if (!claim.ok) {
      throw new UnprocessableEntityException({ detail: `Idempotency-Key was already used with a different request (run ${claim.runId}); use a new key for a new request` });
    }
  }

  /** A concurrent attempt of the same request created the run first: answer with that run. */
  private async createdByAnotherAttempt(runId: string): Promise<RunView> {
    const latest = await this.events.latest(runId);
    if (latest?.event.type === 'RunDeleted') {
      throw new ConflictException({ detail: `CONFLICT: run ${runId}, which an earlier request with this Idempotency-Key or these message otids created, was deleted; send a new key or new otids` });
    }
    const run = await pollUntil(() => this.reader.findOrNull(runId), 5_000);
    if (!run) throw new ServiceUnavailableException({ detail: `Run ${runId} exists but is not readable yet; retry shortly.` });
    return run;
  }

  private runCreated(
    agentId: string,
    runId: string,
    now: Date,
    input: LettaMessage[],
    options: { maxSteps: number; callbackUrl: string | null; background: boolean; runType: string; conversationId?: string | null; body?: LettaRequestDto; metadata?: Record<string, unknown> },
  ): RunEvent<'RunCreated'> {
    const body = options.body;
    const conversationId = options.conversationId ?? null;
    return buildRunEvent(
      { runId, seq: 1, organizationId: callerOrganization(), agentId, laneId: laneIdOf(agentId, conversationId), traceparent: currentCaller()?.traceparent ?? null },
      'RunCreated',
      {
        conversationId,
        background: options.background,
        createdAt: now.toISOString(),
        maxSteps: options.maxSteps,
        callbackUrl: options.callbackUrl,
        overrideModel: body?.override_model ?? null,
        clientTools: body?.client_tools ?? null,
        includeReturnMessageTypes: body?.include_return_message_types ?? null,
        ...(body?.include_compaction_messages ? { includeCompactionMessages: true } : {}),
        approvalTimeoutSeconds: body?.approval_timeout_seconds ?? null,
        metadata: { run_type: options.runType, lettuce: false, ...options.metadata },
        requestConfig: {
          use_assistant_message: body?.use_assistant_message ?? true,
          assistant_message_tool_name: body?.assistant_message_tool_name ?? 'send_message',
          assistant_message_tool_kwarg: body?.assistant_message_tool_kwarg ?? 'message',
          include_return_message_types: body?.include_return_message_types ?? null,
        },
        input,
      },
      now.toISOString(),
    );
  }

  /** Queues the run, and grants it the lane at once if the lane is idle (the orchestrator starts it). */
  private async joinLane(event: RunEvent<'RunCreated'>, streamSeq: number): Promise<void> {
    try {
      await this.lanes.update(event.laneId, (lane) => enqueueAndGrant(lane, { runId: event.runId, createdSeq: streamSeq }));
    } catch (error) {
      this.logger.warn(`could not queue ${event.runId} on its lane, the orchestrator will: ${String(error)}`);
    }
  }

  private async projectRightAway(event: RunEvent<'RunCreated'>, streamSeq: number): Promise<void> {
    try {
      await this.projection.apply([{ event, streamSeq }]);
    } catch (error) {
      // The run is durable in the log; the projector will still record it.
      this.logger.warn(`write-through projection of ${event.runId} failed, projector will apply it: ${String(error)}`);
    }
  }
}

/**
 * The official client retries POSTs (5xx, 409, 429, timeouts) with the same body. When every
 * message carries a client `otid`, the run id is derived from the agent and those otids, so a
 * retry finds the run its first attempt created instead of starting a second one (Letta also
 * deduplicates by otid). Without otids every request is a new run.
 */
export function runIdFor(threadId: string, items: MessageItem[] | null): string {
  const otids = (items ?? []).map((item) => item.otid ?? null);
  if (otids.length === 0 || otids.some((otid) => !otid)) return newId('run');
  return derivedId('run', `${threadId}:${otids.join('\u0000')}`);
}

/**
 * An Idempotency-Key's scope is the organization and the thread (agent or conversation); the run
 * id derives from it, and the body digest (route and body) tells a repeat from a reuse.
 */
function idempotencyOf(organizationId: string, threadId: string, options: RunOptions, body: LettaRequestDto): { keyId: string; bodyDigest: string; runId: string } {
  const keyId = createHash('sha256').update(`${organizationId}\n${threadId}\n${options.idempotencyKey}`).digest('hex');
  const bodyDigest = createHash('sha256').update(`${options.runType}\n${JSON.stringify(body)}`).digest('hex');
  return { keyId, bodyDigest, runId: derivedId('run', `idempotency:${keyId}`) };
}
