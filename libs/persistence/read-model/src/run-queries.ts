import type { DataSource } from 'typeorm';
import type { LettaMessage, RunStatus, RunView, StopReason, TokenUsage } from '@lrs/contracts';
import { ACTIVE_STATUSES } from '@lrs/domain-run';
import { keysetConditions, keysetOrder, numberedParams, type KeysetSort, type PageQuery } from './pagination';
import { filterMessageTypes, isoUtc, toRunView, type RunRow } from './wire-format';

export interface RunListFilter extends PageQuery {
  agentIds?: string[];
  statuses?: RunStatus[];
  active?: boolean;
  stopReason?: StopReason;
  background?: boolean;
  conversationId?: string;
  /** Only runs of the agent's default thread (no conversation). */
  defaultThreadOnly?: boolean;
  createdAfter?: string;
  createdBefore?: string;
}

export type RunUsage = TokenUsage & { step_count: number };

export type StepFeedback = 'positive' | 'negative';

export interface StepView {
  id: string;
  origin: null;
  organization_id: string;
  provider_id: null;
  run_id: string;
  agent_id: string;
  provider_name: string;
  provider_category: string;
  model: string | null;
  model_handle: string | null;
  model_endpoint: string | null;
  context_window_limit: number | null;
  completion_tokens: number | null;
  prompt_tokens: number | null;
  total_tokens: number | null;
  cached_input_tokens: null;
  cache_write_tokens: null;
  reasoning_tokens: null;
  completion_tokens_details: null;
  prompt_tokens_details: null;
  stop_reason: StopReason | null;
  tags: string[];
  tid: null;
  trace_id: null;
  request_id: null;
  messages: never[];
  feedback: StepFeedback | null;
  project_id: null;
  error_type: string | null;
  error_data: Record<string, unknown> | null;
  status: string;
  created_at: string;
  completed_at: string | null;
}

/** A `steps` row as `SELECT *` reads it. */
export interface StepRow {
  id: string;
  organization_id: string;
  run_id: string;
  agent_id: string;
  step_index: number;
  status: string;
  model: string | null;
  model_handle: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  stop_reason: StopReason | null;
  error_type: string | null;
  error_data: Record<string, unknown> | null;
  llm_request_started_at: Date | null;
  feedback: StepFeedback | null;
  tags: string[];
  created_at: Date;
  completed_at: Date | null;
}

const RUN_COLUMNS = `id, organization_id, agent_id, conversation_id, status, stop_reason, background, metadata, request_config,
  callback_url, callback_sent_at, callback_status_code, callback_error, created_at, completed_at, ttft_ns, total_duration_ns, override_model, client_tools, resolve_approvals_only, approval_timeout_seconds, max_steps, version, last_stream_seq, started_at`;

/** Read side of runs: every query is scoped to one organization: another organization's run is not found. */
export class RunQueries {
  constructor(private readonly dataSource: DataSource) {}

  async get(organizationId: string, runId: string): Promise<RunView | null> {
    const row = await this.row(organizationId, runId);
    return row ? toRunView(row) : null;
  }

  async row(organizationId: string, runId: string): Promise<RunRow | null> {
    const rows: RunRow[] = await this.dataSource.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`, [
      runId,
      organizationId,
    ]);
    return rows[0] ?? null;
  }

  /**
   * Run rows sorted by (created_at, id); cursors are relative to the requested order, as Letta's.
   * Rows as projected: callers that care about a run's status read them through the gateway's RunReader.
   */
  async listRows(organizationId: string, filter: RunListFilter): Promise<RunRow[]> {
    const where = ['organization_id = $1', 'deleted_at IS NULL'];
    const params: unknown[] = [organizationId];
    const add = (clause: (placeholder: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (filter.agentIds?.length) add((p) => `agent_id = ANY (${p})`, filter.agentIds);
    const statuses = filter.statuses?.length ? filter.statuses : filter.active ? [...ACTIVE_STATUSES] : null;
    if (statuses) add((p) => `status = ANY (${p})`, statuses);
    if (filter.stopReason) add((p) => `stop_reason = ${p}`, filter.stopReason);
    if (filter.background !== undefined) add((p) => `background = ${p}`, filter.background);
    if (filter.conversationId) add((p) => `conversation_id = ${p}`, filter.conversationId);
    if (filter.defaultThreadOnly) where.push('conversation_id IS NULL');
    if (filter.createdAfter) add((p) => `created_at >= ${p}`, filter.createdAfter);
    if (filter.createdBefore) add((p) => `created_at < ${p}`, filter.createdBefore);
    const sort: KeysetSort = {
      columns: ['created_at', 'id'],
      keyOf: (cursor, scope) => `SELECT created_at, id FROM runs WHERE id = ${cursor} AND organization_id = ${scope}`,
      scope: organizationId,
    };
    where.push(...(await keysetConditions(this.dataSource, filter, sort, numberedParams(params))));
    params.push(filter.limit);
    return this.dataSource.query(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, filter.order)} LIMIT $${params.length}`,
      params,
    );
  }

  /** The run's messages in execution order, user input included, filtered as the run asked. */
  async messages(run: RunView, page: PageQuery): Promise<LettaMessage[]> {
    const params: unknown[] = [run.id];
    const where = ['run_id = $1'];
    // A run's message cursors move towards later messages whatever the order, as Letta's do.
    const sort: KeysetSort = {
      columns: ['sequence_id'],
      keyOf: (cursor, scope) => `SELECT sequence_id FROM messages WHERE id = ${cursor} AND run_id = ${scope}`,
      scope: run.id,
      cursors: 'ascending',
    };
    where.push(...(await keysetConditions(this.dataSource, page, sort, numberedParams(params))));
    params.push(page.limit);
    const rows: { body: LettaMessage }[] = await this.dataSource.query(
      `SELECT body FROM messages WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, page.order)} LIMIT $${params.length}`,
      params,
    );
    return filterMessageTypes(
      rows.map((row) => row.body),
      run.request_config.include_return_message_types,
    );
  }

  async steps(run: RunView, page: PageQuery): Promise<StepView[]> {
    const params: unknown[] = [run.id];
    const where = ['run_id = $1'];
    const sort: KeysetSort = { columns: ['step_index'], keyOf: (cursor, scope) => `SELECT step_index FROM steps WHERE id = ${cursor} AND run_id = ${scope}`, scope: run.id };
    where.push(...(await keysetConditions(this.dataSource, page, sort, numberedParams(params))));
    params.push(page.limit);
    const rows: StepRow[] = await this.dataSource.query(
      `SELECT * FROM steps WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, page.order)} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toStepView);
  }

  async usage(runId: string): Promise<RunUsage> {
    return (await this.usageOf([runId])).get(runId) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, step_count: 0 };
  }

  /** Token usage and finished steps of each run, in one read (runs without steps are missing). */
  async usageOf(runIds: readonly string[]): Promise<Map<string, RunUsage>> {
    if (runIds.length === 0) return new Map();
    const rows: { run_id: string; prompt: string; completion: string; total: string; steps: string }[] = await this.dataSource.query(
      `SELECT run_id, coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion,
              coalesce(sum(total_tokens), 0) AS total, count(*) FILTER (WHERE status <> 'pending') AS steps
       FROM steps WHERE run_id = ANY ($1) GROUP BY run_id`,
      [runIds],
    );
    return new Map(
      rows.map((row) => [
        row.run_id,
        { prompt_tokens: Number(row.prompt), completion_tokens: Number(row.completion), total_tokens: Number(row.total), step_count: Number(row.steps) },
      ]),
    );
  }

  /**
   * The run this one queued behind in its lane (its agent's default thread, or its conversation):
   * the latest run of the lane created before it that had not ended when it was created.
   */
  async queuedBehind(organizationId: string, run: RunView): Promise<string | null> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM runs
       WHERE organization_id = $1 AND agent_id = $2 AND conversation_id IS NOT DISTINCT FROM $3
         AND (created_at, id) < ($4, $5) AND (completed_at IS NULL OR completed_at > $4)
       ORDER BY created_at DESC, id DESC LIMIT 1`,
      [organizationId, run.agent_id, run.conversation_id, run.created_at, run.id],
    );
    return rows[0]?.id ?? null;
  }

  /** The last applied per-run sequence of a run (read-your-writes after an append). */
  /** The organization's runs queued or running, as projected (runs that just ended may still count). */
  async activeCount(organizationId: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM runs WHERE organization_id = $1 AND status IN ('created', 'running') AND deleted_at IS NULL`,
      [organizationId],
    );
    return row.n;
  }

  async currentVersion(runId: string): Promise<number | null> {
    const rows: { version: number }[] = await this.dataSource.query(`SELECT version FROM runs WHERE id = $1`, [runId]);
    return rows[0]?.version ?? null;
  }

}

/** Letta's Step as every step route answers it (a run's steps, `/v1/steps`). */
export function toStepView(row: StepRow): StepView {
  return {
    id: row.id,
    origin: null,
    organization_id: row.organization_id,
    provider_id: null,
    run_id: row.run_id,
    agent_id: row.agent_id,
    provider_name: 'openai',
    provider_category: 'base',
    model: row.model,
    model_handle: row.model_handle,
    model_endpoint: null,
    context_window_limit: null,
    completion_tokens: row.completion_tokens,
    prompt_tokens: row.prompt_tokens,
    total_tokens: row.total_tokens,
    cached_input_tokens: null,
    cache_write_tokens: null,
    reasoning_tokens: null,
    completion_tokens_details: null,
    prompt_tokens_details: null,
    stop_reason: row.stop_reason,
    tags: row.tags ?? [],
    tid: null,
    trace_id: null,
    request_id: null,
    messages: [],
    feedback: row.feedback ?? null,
    project_id: null,
    error_type: row.error_type,
    error_data: row.error_data,
    status: row.status,
    created_at: isoUtc(row.created_at) as string,
    completed_at: isoUtc(row.completed_at),
  };
}
