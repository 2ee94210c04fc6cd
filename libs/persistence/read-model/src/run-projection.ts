import type { DataSource, EntityManager } from 'typeorm';
import type { AnyRunEvent, LettaMessage, RunEvent, RunStatus } from '@lrs/contracts';
import { isTerminalStatus } from '@lrs/domain-run';
import { insertOwnedMessages, storableJson, type MessageOwner } from './pg-values';
import { namedStatement, runNamed } from './named-statements';
import { threadLock } from './thread-context-store';

export type ApplyOutcome = 'applied' | 'duplicate' | 'gap';

export interface ProjectableEvent {
  event: AnyRunEvent;
  streamSeq: number;
}

/** What the batch knows of a run: from its row (locked) or from a RunCreated in the batch. */
interface RunState {
  version: number;
  status: RunStatus;
  deleted: boolean;
  createdAtMs: number;
  startedAtMs: number | null;
  input: LettaMessage[] | null;
}

/** The change a batch makes to one runs row, written with one statement for the whole batch. */
interface RunPatch {
  id: string;
  version: number;
  last_stream_seq: number;
  status?: RunStatus;
  started_at?: string;
  stop_reason?: string;
  completed_at?: string;
  error?: string | null;
  ttft_ns?: number;
  total_duration_ns?: number;
  callback?: boolean;
  callback_sent_at?: string;
  callback_status_code?: number | null;
  callback_error?: string | null;
  deleted_at?: string;
}

/** Everything one batch writes, gathered in event order and then written set-wise. */
class BatchWrites {
  readonly runs = new Map<string, RunPatch>();
  readonly stepInserts: Record<string, unknown>[] = [];
  readonly stepUpdates: Record<string, unknown>[] = [];
  readonly messages: { owner: MessageOwner; message: LettaMessage }[] = [];
  /** Steps the log has settled, with the message ids it kept for each (none for a failed step). */
  readonly settledSteps: { run_id: string; step_id: string; ids: string[] }[] = [];
  readonly attempts: Record<string, unknown>[] = [];
  readonly agentFinishes: Record<string, unknown>[] = [];
  readonly deletedRuns: string[] = [];

  patch(event: AnyRunEvent, streamSeq: number): RunPatch {
    const patch = this.runs.get(event.runId) ?? { id: event.runId, version: event.seq, last_stream_seq: streamSeq };
    patch.version = event.seq;
    patch.last_stream_seq = streamSeq;
    this.runs.set(event.runId, patch);
    return patch;
  }

  addMessages(event: AnyRunEvent, messages: readonly LettaMessage[]): void {
    const owner = { organizationId: event.organizationId, agentId: event.agentId, laneId: event.laneId, runId: event.runId };
    for (const message of messages) this.messages.push({ owner, message });
  }
}

/**
 * The batch's inserts go by name (named-statements.ts): their plans do not depend on the batch.
 * The statements that find rows by the batch's ids (the lock, the updates and deletes) are planned
 * for each batch: a generic plan sees neither how many ids there are nor how many rows the JSON
 * holds, and on tables of a few thousand rows it scans them whole.
 */
const INSERT_CREATED_RUNS = namedStatement(
  `INSERT INTO runs (id, organization_id, agent_id, conversation_id, lane_id, status, background, metadata, request_config,
         callback_url, created_at, max_steps, override_model, client_tools, input, version, last_stream_seq,
         resolve_approvals_only, approval_timeout_seconds)
       SELECT r.id, r.organization_id, r.agent_id, r.conversation_id, r.lane_id, 'created', r.background, r.metadata, r.request_config,
         r.callback_url, r.created_at, r.max_steps, r.override_model, r.client_tools, r.input, r.version, r.last_stream_seq,
         r.resolve_approvals_only, r.approval_timeout_seconds
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, organization_id text, agent_id text, conversation_id text, lane_id text,
         background boolean, metadata jsonb, request_config jsonb, callback_url text, created_at timestamptz, max_steps integer,
         override_model text, client_tools jsonb, input jsonb, version integer, last_stream_seq bigint,
         resolve_approvals_only boolean, approval_timeout_seconds integer)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
);
/**
 * The batch's runs, locked; and their threads' locks shared, so no reset runs under the batch's
 * restores. The rebuild, which holds the messages table alone, takes no thread locks: one per
 * thread of the whole log in one transaction would outgrow Postgres' lock table.
 */
const lockRunsSql = (lockThreads: boolean) => `SELECT id, version, status, deleted_at IS NOT NULL AS deleted, created_at, started_at,
                CASE WHEN id = ANY ($2) THEN input END AS input${lockThreads ? `, ${threadLock('lane_id', 'shared')} AS thread_locked` : ''}
         FROM runs WHERE id = ANY ($1) ORDER BY id FOR UPDATE`;
const LOCK_RUNS_SQL = lockRunsSql(true);
const LOCK_RUNS_WITHOUT_THREADS_SQL = lockRunsSql(false);
const INSERT_STEPS = namedStatement(
  `INSERT INTO steps (id, organization_id, run_id, agent_id, step_index, status, created_at)
         SELECT s.id, s.organization_id, s.run_id, s.agent_id, s.step_index, 'pending', s.created_at
         FROM jsonb_to_recordset($1::jsonb) AS s(id text, organization_id text, run_id text, agent_id text, step_index integer, created_at timestamptz)
         ON CONFLICT (run_id, step_index) DO NOTHING`,
);
const UPDATE_STEPS_SQL = `UPDATE steps SET status = s.status, model = coalesce(s.model, steps.model), model_handle = coalesce(s.model_handle, steps.model_handle),
           prompt_tokens = coalesce(s.prompt_tokens, steps.prompt_tokens), completion_tokens = coalesce(s.completion_tokens, steps.completion_tokens),
           total_tokens = coalesce(s.total_tokens, steps.total_tokens), stop_reason = coalesce(s.stop_reason, steps.stop_reason),
           llm_request_started_at = coalesce(s.llm_request_started_at, steps.llm_request_started_at),
           error_type = coalesce(s.error_type, steps.error_type), error_data = coalesce(s.error_data, steps.error_data), completed_at = s.completed_at
         FROM jsonb_to_recordset($1::jsonb) AS s(run_id text, step_index integer, status text, model text, model_handle text, prompt_tokens integer,
           completion_tokens integer, total_tokens integer, stop_reason text, llm_request_started_at timestamptz, error_type text, error_data jsonb,
           completed_at timestamptz)
         WHERE steps.run_id = ANY ($2) AND steps.run_id = s.run_id AND steps.step_index = s.step_index`;

/**
 * Writes that touch different rows, sent as one statement (`WITH w0 AS (...), w1 AS (...)
 * SELECT 1`): Postgres runs every data-modifying part to completion, each on the statement's one
 * snapshot, so none of them may depend on another's rows. One round trip instead of one each.
 */
class CombinedStatement {
  private readonly parts: string[] = [];
  private readonly params: unknown[] = [];

  /** `sql` names its parameters through `param`, which numbers them across the whole statement. */
  add(sql: (param: (value: unknown) => string) => string): void {
    const param = (value: unknown) => `$${this.params.push(value)}`;
    this.parts.push(`w${this.parts.length} AS (${sql(param)})`);
  }

  async run(manager: EntityManager): Promise<void> {
    if (this.parts.length) await manager.query(`WITH ${this.parts.join(',\n')} SELECT 1`, this.params);
  }
}

/**
 * Applies run events to the read model. Each run row records the last applied per-run sequence
 * (`version`): an event at or below it is a redelivery and changes nothing, one more than one
 * ahead means an earlier event is still in flight (the caller redelivers it later). A batch is
 * decided in memory after one locking read of its runs, then written set-wise: one statement per
 * table, whatever the batch size. State and checkpoint change in the same transaction, so a crash
 * before the ack only replays a no-op.
 */
export class RunProjection {
  constructor(private readonly dataSource: DataSource) {}

  /** Applies a batch in order inside one transaction; returns one outcome per event. */
  async apply(batch: ProjectableEvent[]): Promise<ApplyOutcome[]> {
    // The gateway's write-through of a new run is one statement: no transaction needed.
    if (batch.length === 1 && batch[0].event.type === 'RunCreated') return this.applyIn(this.dataSource.manager, batch);
    // Postgres' default isolation (read committed) with the row locks of lockRuns; asking for it
    // would cost a statement of its own per batch. Under a stricter server default, a batch that meets
    // a concurrent one fails and is redelivered, which the version check makes a no-op.
    return this.dataSource.transaction((manager) => this.applyIn(manager, batch));
  }

  /**
   * Applies a batch in order inside the caller's transaction (the rebuild's). `lockThreads: false`
   * is for a caller that holds the messages table alone (the rebuild): no reset can run meanwhile.
   */
  async applyIn(manager: EntityManager, batch: ProjectableEvent[], options: { lockThreads?: boolean } = {}): Promise<ApplyOutcome[]> {
    if (batch.length === 0) return [];
    const created = await this.insertCreated(
      manager,
      batch.filter((item): item is { event: RunEvent<'RunCreated'>; streamSeq: number } => item.event.type === 'RunCreated'),
    );
    const states = await this.lockRuns(manager, batch, options.lockThreads ?? true);
    const writes = new BatchWrites();
    const outcomes = batch.map((item) => {
      if (item.event.type === 'RunCreated') return created.has(item.event.runId) ? 'applied' : 'duplicate';
      return this.decide(item, states.get(item.event.runId), writes);
    });
    await this.write(manager, writes);
    return outcomes;
  }

  /** Decides one event against the run's state in this batch, recording what it writes. */
  private decide({ event, streamSeq }: ProjectableEvent, state: RunState | undefined, writes: BatchWrites): ApplyOutcome {
    if (!state) return 'gap';
    if (event.seq <= state.version) return 'duplicate';
    if (event.seq > state.version + 1) return 'gap';
    state.version = event.seq;
    const patch = writes.patch(event, streamSeq);
    // A deleted run keeps counting its events so none is mistaken for a gap, but shows nothing.
    if (state.deleted) return 'applied';
    switch (event.type) {
      case 'RunCreated':
        break;
      case 'RunStarted':
        state.status = 'running';
        state.startedAtMs = Date.parse(event.data.startedAt);
        patch.status = 'running';
        patch.started_at = event.data.startedAt;
        // A run's input joins its thread's history when it starts, so history follows execution order.
        writes.addMessages(event, state.input ?? []);
        break;
      case 'StepRequested':
        writes.stepInserts.push({
          id: event.data.stepId,
          organization_id: event.organizationId,
          run_id: event.runId,
          agent_id: event.agentId,
          step_index: event.data.stepIndex,
          created_at: event.data.requestedAt,
        });
        break;
      case 'StepCompleted': {
        const { data } = event;
        writes.stepUpdates.push({
          run_id: event.runId,
          step_index: data.stepIndex,
          status: 'success',
          model: data.model,
          model_handle: data.modelHandle,
          prompt_tokens: data.usage.prompt_tokens,
          completion_tokens: data.usage.completion_tokens,
          total_tokens: data.usage.total_tokens,
          stop_reason: data.stopReason,
          llm_request_started_at: new Date(data.llmRequestStartedAtMs).toISOString(),
          completed_at: data.completedAt,
        });
        // Memory edits are the run path's: the llm-worker applied them before appending this event.
        writes.addMessages(event, data.messages);
        writes.settledSteps.push({ run_id: event.runId, step_id: data.stepId, ids: data.messages.map((message) => message.id) });
        if (data.stepIndex === 1 && data.firstTokenAtMs !== null && state.startedAtMs !== null) {
          patch.ttft_ns = Math.max(0, Math.round((data.firstTokenAtMs - state.startedAtMs) * 1_000_000));
        }
        break;
      }
      case 'StepFailed':
        writes.settledSteps.push({ run_id: event.runId, step_id: event.data.stepId, ids: [] });
        writes.stepUpdates.push({
          run_id: event.runId,
          step_index: event.data.stepIndex,
          status: 'failed',
          error_type: event.data.errorType,
          error_data: { message: event.data.message, attempts: event.data.attempts },
          completed_at: event.data.failedAt,
        });
        break;
      case 'RunFinished': {
        const { data } = event;
        const durationMs = Date.parse(data.completedAt) - state.createdAtMs;
        if (!isTerminalStatus(state.status)) {
          state.status = data.status;
          Object.assign(patch, {
            status: data.status,
            stop_reason: data.stopReason,
            completed_at: data.completedAt,
            error: data.error,
            total_duration_ns: Math.round(durationMs * 1_000_000),
          });
        }
        writes.agentFinishes.push({ id: event.agentId, stop_reason: data.stopReason, completed_at: data.completedAt, duration_ms: Math.round(durationMs) });
        break;
      }
      case 'CallbackAttempted':
        writes.attempts.push({
          run_id: event.runId,
          attempt: event.data.attempt,
          organization_id: event.organizationId,
          sent_at: event.data.sentAt,
          status_code: event.data.statusCode,
          error: event.data.error,
          final: event.data.final,
        });
        Object.assign(patch, { callback: true, callback_sent_at: event.data.sentAt, callback_status_code: event.data.statusCode, callback_error: event.data.error });
        break;
      case 'RunDeleted':
        // The run, its steps, messages and callback attempts leave the read model; the row stays
        // as a tombstone that keeps counting the run's events.
        state.deleted = true;
        patch.deleted_at = event.data.deletedAt;
        writes.deletedRuns.push(event.runId);
        break;
    }
    return 'applied';
  }

  private async insertCreated(manager: EntityManager, created: { event: RunEvent<'RunCreated'>; streamSeq: number }[]): Promise<Set<string>> {
    if (created.length === 0) return new Set();
    const rows = created.map(({ event, streamSeq }) => ({
      id: event.runId,
      organization_id: event.organizationId,
      agent_id: event.agentId,
      conversation_id: event.data.conversationId,
      lane_id: event.laneId,
      background: event.data.background,
      metadata: event.data.metadata,
      request_config: event.data.requestConfig,
      callback_url: event.data.callbackUrl,
      created_at: event.data.createdAt,
      max_steps: event.data.maxSteps,
      override_model: event.data.overrideModel,
      client_tools: event.data.clientTools,
      input: event.data.input,
      version: event.seq,
      last_stream_seq: streamSeq,
      resolve_approvals_only: event.data.resolveApprovalsOnly ?? false,
      approval_timeout_seconds: event.data.approvalTimeoutSeconds ?? null,
    }));
    const inserted: { id: string }[] = await runNamed(manager, INSERT_CREATED_RUNS, [storableJson(rows)]);
    return new Set(inserted.map((row) => row.id));
  }

  /** One locking read of every run the batch touches (rows created just before included). */
  private async lockRuns(manager: EntityManager, batch: ProjectableEvent[], lockThreads: boolean): Promise<Map<string, RunState>> {
    const runIds = [...new Set(batch.filter((item) => item.event.type !== 'RunCreated').map((item) => item.event.runId))];
    const startedIds = [...new Set(batch.filter((item) => item.event.type === 'RunStarted').map((item) => item.event.runId))];
    const states = new Map<string, RunState>();
    if (runIds.length === 0) return states;
    const rows: { id: string; version: number; status: RunStatus; deleted: boolean; created_at: Date; started_at: Date | null; input: LettaMessage[] | null }[] =
      await manager.query(lockThreads ? LOCK_RUNS_SQL : LOCK_RUNS_WITHOUT_THREADS_SQL, [runIds, startedIds]);
    for (const row of rows) {
      states.set(row.id, {
        version: row.version,
        status: row.status,
        deleted: row.deleted,
        createdAtMs: row.created_at.getTime(),
        startedAtMs: row.started_at ? row.started_at.getTime() : null,
        input: row.input,
      });
    }
    return states;
  }

  private async write(manager: EntityManager, writes: BatchWrites): Promise<void> {
    if (writes.stepInserts.length) {
      await runNamed(manager, INSERT_STEPS, [storableJson(writes.stepInserts)]);
    }
    if (writes.stepUpdates.length) {
      await manager.query(UPDATE_STEPS_SQL, [storableJson(writes.stepUpdates), [...new Set(writes.stepUpdates.map((step) => step.run_id))]]);
    }
    // The run path wrote these rows, token counts included; the projector only restores missing
    // ones, and not those a reset of their thread deleted.
    if (writes.messages.length) await insertOwnedMessages(manager, writes.messages, { countTokens: false, exceptReset: true });
    const last = new CombinedStatement();
    if (writes.settledSteps.length) {
      // Rows an attempt of a settled step wrote and the log did not keep (a worker that died between
      // its write and its append, after another attempt had answered) leave the thread. None of
      // them is a row the batch restored above: those are the ones the log kept.
      last.add(
        (param) => `DELETE FROM messages m USING jsonb_to_recordset(${param(JSON.stringify(writes.settledSteps))}::jsonb) AS s(run_id text, step_id text, ids text[])
         WHERE m.run_id = ANY (${param([...new Set(writes.settledSteps.map((step) => step.run_id))])}) AND m.run_id = s.run_id AND m.step_id = s.step_id AND m.id <> ALL (s.ids)`,
      );
    }
    if (writes.attempts.length) {
      last.add(
        (param) => `INSERT INTO callback_attempts (run_id, attempt, organization_id, sent_at, status_code, error, final)
         SELECT a.run_id, a.attempt, a.organization_id, a.sent_at, a.status_code, a.error, a.final
         FROM jsonb_to_recordset(${param(storableJson(writes.attempts))}::jsonb) AS a(run_id text, attempt integer, organization_id text, sent_at timestamptz, status_code integer, error text, final boolean)
         ON CONFLICT (run_id, attempt) DO NOTHING`,
      );
    }
    if (writes.runs.size) {
      last.add(
        (param) => `UPDATE runs SET version = p.version, last_stream_seq = p.last_stream_seq,
           status = coalesce(p.status, runs.status), started_at = coalesce(p.started_at, runs.started_at),
           stop_reason = coalesce(p.stop_reason, runs.stop_reason), completed_at = coalesce(p.completed_at, runs.completed_at),
           metadata = CASE WHEN p.error IS NULL THEN runs.metadata ELSE runs.metadata || jsonb_build_object('error', p.error) END,
           ttft_ns = coalesce(p.ttft_ns, runs.ttft_ns), total_duration_ns = coalesce(p.total_duration_ns, runs.total_duration_ns),
           callback_sent_at = CASE WHEN p.callback THEN p.callback_sent_at ELSE runs.callback_sent_at END,
           callback_status_code = CASE WHEN p.callback THEN p.callback_status_code ELSE runs.callback_status_code END,
           callback_error = CASE WHEN p.callback THEN p.callback_error ELSE runs.callback_error END,
           deleted_at = coalesce(p.deleted_at, runs.deleted_at)
         FROM jsonb_to_recordset(${param(storableJson([...writes.runs.values()]))}::jsonb) AS p(id text, version integer, last_stream_seq bigint, status text, started_at timestamptz,
           stop_reason text, completed_at timestamptz, error text, ttft_ns bigint, total_duration_ns bigint, callback boolean,
           callback_sent_at timestamptz, callback_status_code integer, callback_error text, deleted_at timestamptz)
         WHERE runs.id = ANY (${param([...writes.runs.keys()])}) AND runs.id = p.id`,
      );
    }
    if (writes.agentFinishes.length) {
      last.add(
        (param) => `UPDATE agents SET last_stop_reason = f.stop_reason, last_run_completion = f.completed_at, last_run_duration_ms = f.duration_ms
         FROM (SELECT DISTINCT ON (e.item ->> 'id') e.item ->> 'id' AS id, e.item ->> 'stop_reason' AS stop_reason,
                 (e.item ->> 'completed_at')::timestamptz AS completed_at, (e.item ->> 'duration_ms')::bigint AS duration_ms
               FROM jsonb_array_elements(${param(storableJson(writes.agentFinishes))}::jsonb) WITH ORDINALITY AS e(item, n) ORDER BY e.item ->> 'id', e.n DESC) f
         WHERE agents.id = ANY (${param([...new Set(writes.agentFinishes.map((finish) => finish.id))])}) AND agents.id = f.id`,
      );
    }
    await last.run(manager);
    // After the attempts inserted above: a run deleted in the batch keeps none of them.
    if (writes.deletedRuns.length) {
      for (const table of ['messages', 'steps', 'callback_attempts']) await manager.query(`DELETE FROM ${table} WHERE run_id = ANY ($1)`, [writes.deletedRuns]);
    }
  }
}
