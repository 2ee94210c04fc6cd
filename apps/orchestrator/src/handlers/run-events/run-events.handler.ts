import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CONSUMERS, type AnyRunEvent, type RunEvent } from '@lrs/contracts';
import { approvalTimeoutRun, decide, enqueue, enqueueAndGrant, isSettled, promote, release, stateOf, type LaneState } from '@lrs/domain-run';
import {
  APPROVAL_TIMERS_POLICY,
  BoundedMemory,
  DROP_ON_CONFLICT,
  LaneStore,
  RetryLater,
  RunCommands,
  RunEventStore,
  RunTimers,
  RunWork,
  decisionContextNow,
  onRunEvents,
  type LaneStorage,
  type CommandResult,
  type RunEventLog,
  type HandlerContext,
  type StoredRunEvent,
} from '@lrs/jetstream';

const MAX_PUMP_ROUNDS = 64;
/** Events whose follow-up this process did when it appended them (see `doneHere`). */
const DONE_HERE_MEMORY = 20_000;

/**
 * Moves runs forward. RunCreated joins the run's lane; when the lane is free the oldest waiting
 * run starts. Every other event is answered from the run's latest state by the pure decider and
 * appended conditionally on that event still being the latest, so redeliveries and racing
 * replicas cannot double-step a run. Every StepRequested and RunFinished is also copied to its
 * work queue from here (RunWork.forward): the copy its writer made is not durable on its own.
 */
@Controller()
export class RunEventsHandler {
  private readonly logger = new Logger(RunEventsHandler.name);
  /**
   * The ids of events this process appended and has already done for what their own delivery
   * would do: a RunStarted appended together with its StepRequested (nothing to complete), a
   * RunFinished after which the lane was pumped. Their delivery, which usually comes back to this
   * process at once, then costs no read; a delivery to another replica, or after a restart, does
   * the work as before (it is idempotent).
   */
  private readonly doneHere = new BoundedMemory<string, true>(DONE_HERE_MEMORY);

  constructor(
    @Inject(RunEventStore) private readonly events: RunEventLog,
    private readonly commands: RunCommands,
    @Inject(LaneStore) private readonly lanes: LaneStorage,
    @Inject(RunTimers) private readonly timers: Pick<RunTimers, 'armApprovalTimeout'>,
    @Inject(RunWork) private readonly work: Pick<RunWork, 'forward'>,
  ) {}

  @EventPattern(onRunEvents(CONSUMERS.orchestrator, 'RunCreated', 'RunStarted', 'StepRequested', 'StepCompleted', 'StepFailed', 'RunFinished'))
  async handle(@Payload() event: AnyRunEvent, @Ctx() context: HandlerContext): Promise<void> {
    try {
      await this.decide(event, context);
    } catch (error) {
      // Out of redeliveries: the message goes to the DLQ, and a run it left unfinished ends
      // `failed` with a readable reason instead of waiting for ever.
      if (context.isLastAttempt && event.type !== 'RunFinished') await this.failStranded(event).catch(() => undefined);
      throw error;
    }
  }

  private async failStranded(event: AnyRunEvent): Promise<void> {
    const reason = `internal_error: the orchestrator could not move the run on after ${event.type}; see the DLQ`;
    const result = await this.commands.execute(event.runId, { kind: 'gaveUp', reason }, DROP_ON_CONFLICT);
    if (result.kind === 'appended') this.logger.error(`run ${event.runId} failed: the orchestrator gave up on its ${event.type}`);
  }

  private async decide(event: AnyRunEvent, context: HandlerContext): Promise<void> {
    const stored: StoredRunEvent = { event, streamSeq: context.streamSeq };
    switch (event.type) {
      case 'RunCreated': {
        // The gateway queued the run before answering; this covers a gateway that died in between.
        const lane = await this.lanes.update(event.laneId, (current) => enqueueAndGrant(current, { runId: event.runId, createdSeq: context.streamSeq }));
        // Granted (by the gateway, usually): start it right behind this RunCreated. If it was
        // started already, the conditional append loses and nothing happens.
        if (lane.active?.runId === event.runId) this.rememberDone(await this.commands.executeAfter(stored, { kind: 'laneGranted', createdStreamSeq: context.streamSeq }));
        else await this.pump(event.laneId, lane);
        return;
      }
      case 'StepRequested':
        await this.work.forward(stored);
        return;
      case 'RunFinished':
        await this.work.forward(stored);
        if (!this.doneHere.take(event.id)) await this.pump(event.laneId);
        if (event.data.approvalTimeout) await this.timers.armApprovalTimeout(event);
        return;
      case 'RunStarted': {
        if (this.doneHere.take(event.id)) return;
        // RunStarted and StepRequested are appended as one chain; only a crash splits them. Read
        // the latest first, so the usual case costs a read instead of an append that must lose.
        const latest = await this.events.latest(event.runId, context.streamSeq);
        if (latest) await this.commands.executeAfter(latest, { kind: 'advance' });
        return;
      }
      default: {
        const result = await this.commands.executeAfter(stored, { kind: 'advance' });
        const finished = result.kind === 'appended' ? result.events.find((next) => next.event.type === 'RunFinished') : undefined;
        if (!finished) return;
        await this.pump(event.laneId, undefined, finished.event.runId);
        this.doneHere.set(finished.event.id, true);
      }
    }
  }

  /** A RunStarted appended with the StepRequested behind it leaves its delivery nothing to do. */
  private rememberDone(result: CommandResult): void {
    if (result.kind !== 'appended') return;
    const [started, requested] = result.events;
    if (started?.event.type === 'RunStarted' && requested?.event.type === 'StepRequested') this.doneHere.set(started.event.id, true);
  }

  /**
   * Brings a lane to rest: releases an active run that has finished, grants the lane to the
   * oldest waiting run and starts it. Safe to call any number of times from any replica.
   * `finishedRunId` names a run this process has just seen finish (no read needed to know it).
   */
  private async pump(laneId: string, known?: LaneState, finishedRunId?: string): Promise<void> {
    // Each compare-and-set returns the state it wrote, so the lane is read once, not every round.
    let lane = known ?? (await this.lanes.read(laneId));
    for (let round = 0; round < MAX_PUMP_ROUNDS; round++) {
      if (lane.active) {
        const activeRunId = lane.active.runId;
        if (activeRunId === finishedRunId) {
          lane = await this.lanes.update(laneId, (current) => release(current, activeRunId));
          continue;
        }
        // The lane holds the run's RunCreated: a read older than that has not caught up (StaleRead, retried).
        const latest = await this.events.latest(activeRunId, lane.active.createdSeq);
        const state = stateOf(latest?.event);
        if (state.kind === 'absent' || isSettled(state)) {
          lane = await this.lanes.update(laneId, (current) => release(current, activeRunId));
          continue;
        }
        if (state.kind === 'queued') await this.commands.executeAfter(latest!, { kind: 'laneGranted', createdStreamSeq: latest!.streamSeq });
        return;
      }
      if (lane.waiting.length === 0) return;
      lane = await this.lanes.update(laneId, promote);
    }
    this.logger.warn(`lane ${laneId} did not settle after ${MAX_PUMP_ROUNDS} rounds; the next event on it resumes the work`);
  }

  /**
   * A pause with an approval timeout, from its durable timer (RunTimers): the timer's message is
   * held back until the timeout (the nak delay is the wait, durable across restarts); then, unless
   * another run was queued on the lane meanwhile (the answer), a run that denies the pending calls
   * and continues is started.
   */
  @EventPattern(onRunEvents(APPROVAL_TIMERS_POLICY.name, 'RunFinished'))
  async onApprovalTimer(@Payload() event: AnyRunEvent): Promise<void> {
    if (event.type === 'RunFinished' && event.data.approvalTimeout) await this.expireApproval(event);
  }

  private async expireApproval(event: RunEvent<'RunFinished'>): Promise<void> {
    const lane = await this.lanes.read(event.laneId);
    const laneMovedOn = Boolean(lane.latestRunId && lane.latestRunId !== event.runId);
    const decision = decide(stateOf(event), { kind: 'approvalDue', nowMs: Date.now(), laneMovedOn }, decisionContextNow());
    if (decision.kind === 'later') throw new RetryLater(decision.delayMs, `approval for ${event.runId} is due in ${decision.delayMs} ms`);
    if (decision.kind !== 'continueAfterTimeout') return;
    const continuation = approvalTimeoutRun(event, new Date());
    // A redelivered timer finds its continuation created already (its id is derived from the paused run).
    const createdSeq = await this.commands.create(continuation);
    if (createdSeq === null) return;
    this.logger.log(`approval for ${event.runId} timed out; ${continuation.runId} denies it and continues`);
    await this.lanes.update(event.laneId, (current) => enqueue(current, { runId: continuation.runId, createdSeq }));
    await this.pump(event.laneId);
  }
}
