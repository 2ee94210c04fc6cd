import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { isSettled } from '@lrs/domain-run';
import { CancelNotices, RETRY_ON_CONFLICT, RunCommands } from '@lrs/jetstream';
import { AgentStore, MessageQueries, RunProjection, RunQueries } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { RunCreator } from '../run-creator';
import { RunReader } from '../../runs/run-reader';
import { agentNotFound } from '../../threads/thread-resolver';
import { callerOrganization } from '../../auth/caller';

export type CancelOutcome = 'cancelled' | 'failed';

const CANCEL_REASON = 'The user cancelled the request, so the tool call was denied.';

/**
 * Cancelling ends a run `cancelled` right away: RunFinished is appended behind whatever the run
 * did last, so an in-flight step's result loses its append (the worker also aborts the model
 * call when it sees the event), finished steps and their usage stay, the lane moves on and the
 * callback fires. A run that already ended is left as it was. Cancelling a run paused for
 * approval denies its pending calls, so the agent is not stuck waiting.
 */
@Injectable()
export class CancelRunsUseCase {
  constructor(
    private readonly commands: RunCommands,
    private readonly runs: RunQueries,
    private readonly reader: RunReader,
    private readonly agents: AgentStore,
    private readonly messages: MessageQueries,
    private readonly creator: RunCreator,
    private readonly projection: RunProjection,
    private readonly cancelNotices: CancelNotices,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  /** POST /v1/agents/{id}/messages/cancel: the given runs, or every active run of the agent. */
  async cancelForAgent(agentId: string, runIds: string[] | undefined): Promise<Record<string, CancelOutcome>> {
    const organizationId = callerOrganization();
    if (!(await this.agents.exists(organizationId, agentId))) throw agentNotFound(agentId);
    let targets = runIds ?? [];
    if (!runIds?.length) {
      // Active as the log has it: a run the projection still shows running may have ended already.
      const active = await this.reader.list({ agentIds: [agentId], active: true, limit: 1000, order: 'asc' });
      targets = active.map((run) => run.id);
    }
    const outcomes: Record<string, CancelOutcome> = {};
    for (const runId of targets) outcomes[runId] = await this.cancelRun(runId, agentId);
    if (!runIds?.length) {
      const pending = await this.messages.pendingApproval(agentId);
      if (pending?.run_id) outcomes[pending.run_id] = await this.denyPending(agentId);
    }
    if (Object.keys(outcomes).length === 0) throw new ConflictException({ detail: `CONFLICT: No active runs to cancel for agent ${agentId}` });
    return outcomes;
  }

  /** POST /v1/conversations/{id}/cancel: the conversation's active runs, or its pending approval. */
  async cancelForConversation(agentId: string, conversationId: string | null): Promise<Record<string, CancelOutcome>> {
    const active = await this.reader.list({
      agentIds: [agentId],
      active: true,
      limit: 1000,
      order: 'asc',
      ...(conversationId ? { conversationId } : { defaultThreadOnly: true }),
    });
    const outcomes: Record<string, CancelOutcome> = {};
    for (const run of active) outcomes[run.id] = await this.cancelRun(run.id, agentId);
    const pending = await this.messages.pendingApproval(agentId, conversationId);
    if (pending?.run_id && !outcomes[pending.run_id]) outcomes[pending.run_id] = await this.denyPending(agentId, conversationId);
    if (Object.keys(outcomes).length === 0) {
      throw new ConflictException({ detail: `CONFLICT: No active runs to cancel for conversation ${conversationId ?? 'default'}` });
    }
    return outcomes;
  }

  /** POST /v1/runs/{id}/cancel. */
  async cancelOne(runId: string): Promise<CancelOutcome> {
    const run = await this.runs.get(callerOrganization(), runId);
    if (!run) throw new NotFoundException({ detail: `Run with ID ${runId} not found` });
    if (run.stop_reason === 'requires_approval') {
      const pending = await this.messages.pendingApproval(run.agent_id, run.conversation_id);
      if (pending?.run_id === runId) return this.denyPending(run.agent_id, run.conversation_id);
    }
    return this.cancelRun(runId, run.agent_id);
  }

  /** Appends RunDeleted and applies it right away, so the run is gone for the very next read. */
  async deleteRun(runId: string): Promise<void> {
    const result = await this.commands.execute(runId, { kind: 'delete' }, RETRY_ON_CONFLICT);
    if (result.kind === 'lost') throw new ConflictException({ detail: `CONFLICT: run ${runId} kept changing; try the delete again` });
    if (result.kind !== 'appended') return;
    const [deleted] = result.events;
    const [outcome] = await this.projection.apply([deleted]);
    // The projector had not applied the run's last events yet (a callback attempt, say): it
    // applies the deletion right behind them, normally within milliseconds.
    if (outcome === 'gap') await this.reader.projectedUpTo(runId, deleted.event.seq);
  }

  private async cancelRun(runId: string, agentId: string): Promise<CancelOutcome> {
    const result = await this.commands.execute(runId, { kind: 'cancel' }, RETRY_ON_CONFLICT, (latest) => latest.event.agentId === agentId);
    if (result.kind === 'appended') {
      // Aborts the model call if a worker is in one for this run.
      this.cancelNotices.publish(runId);
      return 'cancelled';
    }
    // A run that had ended already stays as it was, and counts as cancelled.
    return result.kind === 'decided' && result.latest && isSettled(result.state) ? 'cancelled' : 'failed';
  }

  private async denyPending(agentId: string, conversationId: string | null = null): Promise<CancelOutcome> {
    const pending = await this.messages.pendingApproval(agentId, conversationId);
    if (!pending) return 'cancelled';
    await this.creator.commit(this.creator.prepareDenial(agentId, pending, CANCEL_REASON, conversationId));
    return 'cancelled';
  }
}
