import type { DataSource } from 'typeorm';
import type { LettaMessage } from '@lrs/contracts';
import { keysetConditions, keysetOrder, numberedParams, type KeysetSort, type PageQuery } from './pagination';
import { toStepView, type StepFeedback, type StepRow, type StepView } from './run-queries';

export interface StepListFilter extends PageQuery {
  agentId?: string;
  /** Not in Letta's list; a run's steps are also `GET /v1/runs/{id}/steps`. */
  runId?: string;
  /** The model's name or its handle (`gpt-4o-mini` or `openai/gpt-4o-mini`). */
  model?: string;
  hasFeedback?: boolean;
  feedback?: StepFeedback;
  /** Steps carrying every one of these tags. */
  tags?: string[];
  /** Steps created at or after this instant. */
  startDate?: string;
  /** Steps created before this instant. */
  endDate?: string;
}

/** A user's say on a step (`PATCH /v1/steps/{id}/feedback`). */
export interface StepFeedbackChange {
  /** Null clears it. */
  feedback: StepFeedback | null;
  /** Replace the step's tags when given (an empty list clears them); left as they are when not. */
  tags?: string[];
}

/** Letta's StepMetrics, from what the read model and the run's log hold (see `toStepMetrics`). */
export interface StepMetricsView {
  id: string;
  organization_id: string;
  provider_id: null;
  run_id: string;
  agent_id: string;
  step_start_ns: number;
  llm_request_start_ns: number | null;
  llm_request_ns: null;
  tool_execution_ns: null;
  step_ns: number | null;
  /** Not Letta's: from the model call's start to its first streamed token (null when it streamed none). */
  time_to_first_token_ns: number | null;
  base_template_id: null;
  template_id: null;
  project_id: null;
}

const NS_PER_MS = 1_000_000;

/** The read side of `/v1/steps`. Every query is scoped to one organization: another organization's step is not found. */
export class StepQueries {
  constructor(private readonly dataSource: DataSource) {}

  async row(organizationId: string, stepId: string): Promise<StepRow | null> {
    const rows: StepRow[] = await this.dataSource.query(`SELECT * FROM steps WHERE id = $1 AND organization_id = $2`, [stepId, organizationId]);
    return rows[0] ?? null;
  }

  async get(organizationId: string, stepId: string): Promise<StepView | null> {
    const row = await this.row(organizationId, stepId);
    return row ? toStepView(row) : null;
  }

  /** Steps sorted by (created_at, id); cursors are step ids and move along the requested order, as Letta's. */
  async list(organizationId: string, filter: StepListFilter): Promise<StepView[]> {
    const params: unknown[] = [organizationId];
    const bind = numberedParams(params);
    const where = ['organization_id = $1'];
    if (filter.agentId) where.push(`agent_id = ${bind(filter.agentId)}`);
    if (filter.runId) where.push(`run_id = ${bind(filter.runId)}`);
    if (filter.model) {
      const model = bind(filter.model);
      where.push(`(model = ${model} OR model_handle = ${model})`);
    }
    if (filter.hasFeedback !== undefined) where.push(filter.hasFeedback ? 'feedback IS NOT NULL' : 'feedback IS NULL');
    if (filter.feedback) where.push(`feedback = ${bind(filter.feedback)}`);
    if (filter.tags?.length) where.push(`tags @> ${bind(filter.tags)}::text[]`);
    if (filter.startDate) where.push(`created_at >= ${bind(filter.startDate)}`);
    if (filter.endDate) where.push(`created_at < ${bind(filter.endDate)}`);
    const sort: KeysetSort = {
      columns: ['created_at', 'id'],
      keyOf: (cursor, scope) => `SELECT created_at, id FROM steps WHERE id = ${cursor} AND organization_id = ${scope}`,
      scope: organizationId,
    };
    where.push(...(await keysetConditions(this.dataSource, filter, sort, bind)));
    const rows: StepRow[] = await this.dataSource.query(
      `SELECT * FROM steps WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, filter.order)} LIMIT ${bind(filter.limit)}`,
      params,
    );
    return rows.map(toStepView);
  }

  /** The messages the step left in its thread, in execution order; cursors are message ids of the step. */
  async messages(step: Pick<StepRow, 'id' | 'run_id'>, page: PageQuery): Promise<LettaMessage[]> {
    const params: unknown[] = [step.run_id, step.id];
    const bind = numberedParams(params);
    const sort: KeysetSort = {
      columns: ['sequence_id'],
      keyOf: (cursor, scope) => `SELECT sequence_id FROM messages WHERE id = ${cursor} AND step_id = ${scope}`,
      scope: step.id,
    };
    const where = ['run_id = $1', 'step_id = $2', ...(await keysetConditions(this.dataSource, page, sort, bind))];
    const rows: { body: LettaMessage }[] = await this.dataSource.query(
      `SELECT body FROM messages WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, page.order)} LIMIT ${bind(page.limit)}`,
      params,
    );
    return rows.map((row) => row.body);
  }

  /**
   * Records a user's feedback on a step; null when the organization has no such step. Only these
   * columns change: the projector never writes them, and the rebuild carries them over.
   */
  async setFeedback(organizationId: string, stepId: string, change: StepFeedbackChange): Promise<StepView | null> {
    const updated: [StepRow[], number] = await this.dataSource.query(
      `UPDATE steps SET feedback = $3, tags = coalesce($4::text[], tags) WHERE id = $1 AND organization_id = $2 RETURNING *`,
      [stepId, organizationId, change.feedback, change.tags ?? null],
    );
    const [row] = updated[0];
    return row ? toStepView(row) : null;
  }
}

/**
 * A step's timings as Letta's StepMetrics: the step from its request (queue wait included) to its
 * end, and when its model call began. The log records neither when the model call ended nor how
 * long tools took, so `llm_request_ns` and `tool_execution_ns` are null rather than guessed.
 */
export function toStepMetrics(row: StepRow, firstTokenAtMs: number | null): StepMetricsView {
  const created = row.created_at.getTime();
  const llmStarted = row.llm_request_started_at?.getTime() ?? null;
  return {
    id: row.id,
    organization_id: row.organization_id,
    provider_id: null,
    run_id: row.run_id,
    agent_id: row.agent_id,
    step_start_ns: created * NS_PER_MS,
    llm_request_start_ns: llmStarted === null ? null : llmStarted * NS_PER_MS,
    llm_request_ns: null,
    tool_execution_ns: null,
    step_ns: row.completed_at ? Math.max(0, row.completed_at.getTime() - created) * NS_PER_MS : null,
    time_to_first_token_ns: firstTokenAtMs !== null && llmStarted !== null ? Math.max(0, Math.round((firstTokenAtMs - llmStarted) * NS_PER_MS)) : null,
    base_template_id: null,
    template_id: null,
    project_id: null,
  };
}
