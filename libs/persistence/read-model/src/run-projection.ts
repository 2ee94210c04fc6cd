import type { DataSource, EntityManager } from 'typeorm';
import type { AnyRunEvent, LettaMessage, RunEvent } from '@lrs/contracts';
import { TERMINAL_STATUSES } from '@lrs/domain-run';
import { insertMessages, storableJson, storableText, type MessageOwner } from './pg-values';

export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

export interface ProjectableEvent {
  event: AnyRunEvent;
  streamSeq: number;
}

/**
 * Applies run events to the read model. Each run row records the last applied per-run sequence
 * (`version`): an event at or below it is a redelivery and changes nothing, one more than one
 * ahead means an earlier event is still in flight (the caller redelivers it later). State and
 * checkpoint change in the same transaction, so a crash before the ack only replays a no-op.
 */
export class RunProjection {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies a batch in order inside one transaction; returns one outcome per event. */
  async apply(batch: ProjectableEvent[]): Promise<ApplyOutcome[]> {
    return this.dataSource.transaction('READ COMMITTED', (manager) => this.applyIn(manager, batch));
  }

  /** Applies a batch in order inside the caller's transaction (the rebuild's). */
  async applyIn(manager: EntityManager, batch: ProjectableEvent[]): Promise<ApplyOutcome[]> {
    const outcomes: ApplyOutcome[] = [];
    for (const item of batch) outcomes.push(await this.applyOne(manager, item));
    return outcomes;
  }

  private async applyOne(manager: EntityManager, { event, streamSeq }: ProjectableEvent): Promise<ApplyOutcome> {
    if (event.type === 'RunCreated') return this.createRun(manager, event, streamSeq);

    const rows: { version: number; deleted: boolean }[] = await manager.query(
      `SELECT version, deleted_at IS NOT NULL AS deleted FROM runs WHERE id = $1 FOR UPDATE`,
      [event.runId],
    );
    if (rows.length === 0) return 'gap';
    const version = rows[0].version;
    if (event.seq <= version) return 'duplicate';
    if (event.seq > version + 1) return 'gap';
    if (rows[0].deleted) {
      // A deleted run keeps counting its events so none is mistaken for a gap, but shows nothing.
      await manager.query(`UPDATE runs SET version = $2, last_stream_seq = $3 WHERE id = $1`, [event.runId, event.seq, streamSeq]);
      return 'applied';
    }

    switch (event.type) {
      case 'RunStarted':
        await manager.query(`UPDATE runs SET status = 'running', started_at = $2 WHERE id = $1`, [event.runId, event.data.startedAt]);
        await this.insertRunInput(manager, event);
        break;
      case 'StepRequested':
        await manager.query(
          `INSERT INTO steps (id, organization_id, run_id, agent_id, step_index, status, created_at)
           VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT (run_id, step_index) DO NOTHING`,
          [event.data.stepId, event.organizationId, event.runId, event.agentId, event.data.stepIndex, event.data.requestedAt],
        );
        break;
      case 'StepCompleted': {
        const { data } = event;
        await manager.query(
          `UPDATE steps SET status = 'success', model = $3, model_handle = $4, prompt_tokens = $5, completion_tokens = $6,
             total_tokens = $7, stop_reason = $8, llm_request_started_at = to_timestamp($9 / 1000.0), completed_at = $10
           WHERE run_id = $1 AND step_index = $2`,
          [
            event.runId,
            data.stepIndex,
            data.model,
            data.modelHandle,
            data.usage.prompt_tokens,
            data.usage.completion_tokens,
            data.usage.total_tokens,
            data.stopReason,
            data.llmRequestStartedAtMs,
            data.completedAt,
          ],
        );
        // Memory edits are the run path's: the llm-worker applied them before appending this event.
        await insertMessages(manager, ownerOf(event), data.messages);
        if (data.stepIndex === 1 && data.firstTokenAtMs !== null) {
          await manager.query(
            `UPDATE runs SET ttft_ns = GREATEST(0, round(($2 - extract(epoch from started_at) * 1000) * 1000000))::bigint
             WHERE id = $1 AND started_at IS NOT NULL`,
            [event.runId, data.firstTokenAtMs],
          );
        }
        break;
      }
      case 'StepFailed':
        await manager.query(
          `UPDATE steps SET status = 'failed', error_type = $3, error_data = $4, completed_at = $5 WHERE run_id = $1 AND step_index = $2`,
          [event.runId, event.data.stepIndex, storableText(event.data.errorType), storableJson({ message: event.data.message, attempts: event.data.attempts }), event.data.failedAt],
        );
        break;
      case 'RunFinished':
        await this.finishRun(manager, event);
        break;
      case 'RunDeleted':
        // The run, its steps, messages and callback attempts leave the read model; the row stays
        // as a tombstone that keeps counting the run's events.
        await manager.query(`UPDATE runs SET deleted_at = $2 WHERE id = $1`, [event.runId, event.data.deletedAt]);
        for (const table of ['messages', 'steps', 'callback_attempts']) await manager.query(`DELETE FROM ${table} WHERE run_id = $1`, [event.runId]);
        break;
      case 'CallbackAttempted':
        await manager.query(
          `INSERT INTO callback_attempts (run_id, attempt, organization_id, sent_at, status_code, error, final)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id, attempt) DO NOTHING`,
          [event.runId, event.data.attempt, event.organizationId, event.data.sentAt, event.data.statusCode, storableText(event.data.error), event.data.final],
        );
        await manager.query(
          `UPDATE runs SET callback_sent_at = $2, callback_status_code = $3, callback_error = $4 WHERE id = $1`,
          [event.runId, event.data.sentAt, event.data.statusCode, storableText(event.data.error)],
        );
        break;
    }
    await manager.query(`UPDATE runs SET version = $2, last_stream_seq = $3 WHERE id = $1`, [event.runId, event.seq, streamSeq]);
    return 'applied';
  }

  private async createRun(manager: EntityManager, event: RunEvent<'RunCreated'>, streamSeq: number): Promise<ApplyOutcome> {
    const { data } = event;
    const inserted: unknown[] = await manager.query(
      `INSERT INTO runs (id, organization_id, agent_id, conversation_id, lane_id, status, background, metadata, request_config,
         callback_url, created_at, max_steps, override_model, client_tools, input, version, last_stream_seq,
         resolve_approvals_only, approval_timeout_seconds)
       VALUES ($1, $2, $3, $4, $5, 'created', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        event.runId,
        event.organizationId,
        event.agentId,
        data.conversationId,
        event.laneId,
        data.background,
        storableJson(data.metadata),
        storableJson(data.requestConfig),
        storableText(data.callbackUrl),
        data.createdAt,
        data.maxSteps,
        data.overrideModel,
        data.clientTools === null ? null : storableJson(data.clientTools),
        storableJson(data.input),
        event.seq,
        streamSeq,
        data.resolveApprovalsOnly ?? false,
        data.approvalTimeoutSeconds ?? null,
      ],
    );
    return inserted.length > 0 ? 'applied' : 'duplicate';
  }

  /** A run's input joins its thread's history when it starts, so history follows execution order. */
  private async insertRunInput(manager: EntityManager, event: RunEvent<'RunStarted'>): Promise<void> {
    const rows: { input: LettaMessage[] }[] = await manager.query(`SELECT input FROM runs WHERE id = $1`, [event.runId]);
    await insertMessages(manager, ownerOf(event), rows[0].input);
  }

  private async finishRun(manager: EntityManager, event: RunEvent<'RunFinished'>): Promise<void> {
    const { data } = event;
    const errorPatch = data.error === null ? {} : { error: data.error };
    await manager.query(
      `UPDATE runs SET status = $2, stop_reason = $3, completed_at = $4, metadata = metadata || $5::jsonb,
         total_duration_ns = round(extract(epoch from ($4::timestamptz - created_at)) * 1000000000)::bigint
       WHERE id = $1 AND status <> ALL ($6)`,
      [event.runId, data.status, data.stopReason, data.completedAt, storableJson(errorPatch), TERMINAL_STATUSES],
    );
    await manager.query(
      `UPDATE agents SET last_stop_reason = $2, last_run_completion = $3,
         last_run_duration_ms = (SELECT round(extract(epoch from ($3::timestamptz - created_at)) * 1000)::bigint FROM runs WHERE id = $4)
       WHERE id = $1`,
      [event.agentId, data.stopReason, data.completedAt, event.runId],
    );
  }
}

function ownerOf(event: AnyRunEvent): MessageOwner {
  return { organizationId: event.organizationId, agentId: event.agentId, laneId: event.laneId, runId: event.runId };
}
