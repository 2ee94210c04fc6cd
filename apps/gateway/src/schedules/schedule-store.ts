import type { DataSource, QueryRunner } from 'typeorm';
import type { ScheduleSpec } from '@lrs/scheduling';

/** What a firing sends: the async route's body, as the schedule was created with it. */
export interface ScheduledMessageBody {
  messages: Record<string, unknown>[];
  callback_url?: string | null;
  include_return_message_types?: string[] | null;
  max_steps?: number | null;
}

export interface ScheduleRecord {
  id: string;
  organizationId: string;
  agentId: string;
  spec: ScheduleSpec;
  message: ScheduledMessageBody;
  /** The firing the schedule waits on; null once a one-time schedule has fired (or was skipped). */
  fireAt: Date | null;
  /** When to try that firing: `fireAt`, or later after a transient refusal. */
  attemptAt: Date | null;
  createdAt: Date;
  lastFiredAt: Date | null;
  lastRunId: string | null;
  firedCount: number;
  skippedCount: number;
  lastError: string | null;
}

interface ScheduleRow {
  id: string;
  organization_id: string;
  agent_id: string;
  kind: 'one-time' | 'recurring';
  scheduled_at: Date | null;
  cron_expression: string | null;
  message: ScheduledMessageBody;
  fire_at: Date | null;
  attempt_at: Date | null;
  created_at: Date;
  last_fired_at: Date | null;
  last_run_id: string | null;
  fired_count: number;
  skipped_count: number;
  last_error: string | null;
}

const COLUMNS = `id, organization_id, agent_id, kind, scheduled_at, cron_expression, message, fire_at, attempt_at, created_at, last_fired_at, last_run_id, fired_count, skipped_count, last_error`;

function recordOf(row: ScheduleRow): ScheduleRecord {
  const spec: ScheduleSpec = row.kind === 'one-time' ? { type: 'one-time', scheduledAt: new Date(row.scheduled_at!).getTime() } : { type: 'recurring', cronExpression: row.cron_expression! };
  const date = (value: Date | null) => (value === null ? null : new Date(value));
  return {
    id: row.id,
    organizationId: row.organization_id,
    agentId: row.agent_id,
    spec,
    message: row.message,
    fireAt: date(row.fire_at),
    attemptAt: date(row.attempt_at),
    createdAt: new Date(row.created_at),
    lastFiredAt: date(row.last_fired_at),
    lastRunId: row.last_run_id,
    firedCount: Number(row.fired_count),
    skippedCount: Number(row.skipped_count),
    lastError: row.last_error,
  };
}

export type CreateOutcome = { created: ScheduleRecord } | { agentNotFound: true } | { full: number };

/** What one claimed schedule became: its next firing, and what this one did. */
export interface FiringResult {
  id: string;
  fireAt: Date | null;
  attemptAt: Date | null;
  /** Set when a firing was made (or found made by an earlier attempt). */
  fired: { at: Date; runId: string } | null;
  skipped: number;
  error: string | null;
}

/**
 * The `schedules` table. Rows are scoped by organization and agent on every read and delete; the
 * firer alone reads across organizations, and only rows it has locked.
 */
export class ScheduleStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a schedule unless the agent (of this organization) is missing or holds `max`. The
   * agent's row is locked for the count, so concurrent creates cannot pass the limit together;
   * one-time schedules that are done make room (oldest first) before a create is refused.
   */
  async create(input: { id: string; organizationId: string; agentId: string; spec: ScheduleSpec; message: ScheduledMessageBody; firstFireAt: Date; max: number }): Promise<CreateOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const agent: unknown[] = await manager.query(`SELECT id FROM agents WHERE id = $1 AND organization_id = $2 FOR NO KEY UPDATE`, [input.agentId, input.organizationId]);
      if (!agent.length) return { agentNotFound: true as const };
      const [{ count }]: { count: string }[] = await manager.query(`SELECT count(*) FROM schedules WHERE agent_id = $1`, [input.agentId]);
      let held = Number(count);
      if (held >= input.max) {
        // TypeORM answers a DELETE with [rows, affected].
        const [, removed]: [unknown[], number] = await manager.query(
          `DELETE FROM schedules WHERE id IN (SELECT id FROM schedules WHERE agent_id = $1 AND fire_at IS NULL ORDER BY created_at, id LIMIT $2)`,
          [input.agentId, held - input.max + 1],
        );
        held -= removed;
        if (held >= input.max) return { full: held };
      }
      const { spec } = input;
      const rows: ScheduleRow[] = await manager.query(
        `INSERT INTO schedules (id, organization_id, agent_id, kind, scheduled_at, cron_expression, message, fire_at, attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ${COLUMNS}`,
        [
          input.id,
          input.organizationId,
          input.agentId,
          spec.type,
          spec.type === 'one-time' ? new Date(spec.scheduledAt).toISOString() : null,
          spec.type === 'recurring' ? spec.cronExpression : null,
          JSON.stringify(input.message),
          input.firstFireAt.toISOString(),
        ],
      );
      return { created: recordOf(rows[0]) };
    });
  }

  async find(organizationId: string, agentId: string, id: string): Promise<ScheduleRecord | null> {
    const rows: ScheduleRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM schedules WHERE id = $1 AND agent_id = $2 AND organization_id = $3`, [id, agentId, organizationId]);
    return rows.length ? recordOf(rows[0]) : null;
  }

  /** Oldest first; `after` is a schedule id of this agent (an unknown one starts from the beginning). */
  async list(organizationId: string, agentId: string, after: string | null, limit: number): Promise<{ items: ScheduleRecord[]; hasNextPage: boolean }> {
    const rows: ScheduleRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM schedules s
       WHERE s.organization_id = $1 AND s.agent_id = $2
         AND ($3::text IS NULL OR NOT EXISTS (SELECT 1 FROM schedules c WHERE c.id = $3 AND c.agent_id = $2)
              OR (s.created_at, s.id) > (SELECT c.created_at, c.id FROM schedules c WHERE c.id = $3 AND c.agent_id = $2))
       ORDER BY s.created_at, s.id LIMIT $4`,
      [organizationId, agentId, after, limit + 1],
    );
    return { items: rows.slice(0, limit).map(recordOf), hasNextPage: rows.length > limit };
  }

  /** Waits for a firing in progress (it holds the row), so once this answers the schedule never fires again. */
  async delete(organizationId: string, agentId: string, id: string): Promise<boolean> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown[], number] = await this.dataSource.query(`DELETE FROM schedules WHERE id = $1 AND agent_id = $2 AND organization_id = $3`, [id, agentId, organizationId]);
    return affected > 0;
  }

  /**
   * The earliest time after `now` a schedule is due to be tried (from the due index), or null.
   * Rows due already are being fired by whoever holds them (the claim took every free one).
   */
  async nextAttemptAfter(now: Date): Promise<Date | null> {
    const [row]: { at: Date | null }[] = await this.dataSource.query(`SELECT min(attempt_at) AS at FROM schedules WHERE attempt_at IS NOT NULL AND attempt_at > $1`, [now.toISOString()]);
    return row?.at ? new Date(row.at) : null;
  }

  /**
   * Claims up to `limit` schedules due at `now`, locked for one transaction (other replicas skip
   * them), hands them to `fire`, and stores what became of each before committing. A process that
   * dies before the commit leaves them as they were: the next claim fires them again, into the
   * runs the first attempt may have made (same derived run ids).
   */
  async claimDue(now: Date, limit: number, fire: (due: ScheduleRecord[]) => Promise<FiringResult[]>): Promise<number> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const rows: ScheduleRow[] = await runner.query(
        `SELECT ${COLUMNS} FROM schedules WHERE attempt_at IS NOT NULL AND attempt_at <= $1 ORDER BY attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [now.toISOString(), limit],
      );
      if (!rows.length) {
        await runner.commitTransaction();
        return 0;
      }
      const results = await fire(rows.map(recordOf));
      if (results.length) {
        await runner.query(
          `UPDATE schedules s SET
             fire_at = r.fire_at, attempt_at = r.attempt_at,
             last_fired_at = COALESCE(r.fired_at, s.last_fired_at), last_run_id = COALESCE(r.run_id, s.last_run_id),
             fired_count = s.fired_count + CASE WHEN r.run_id IS NULL THEN 0 ELSE 1 END,
             skipped_count = s.skipped_count + r.skipped, last_error = r.error
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, fire_at timestamptz, attempt_at timestamptz, fired_at timestamptz, run_id text, skipped integer, error text)
           WHERE s.id = r.id`,
          [
            JSON.stringify(
              results.map((result) => ({
                id: result.id,
                fire_at: result.fireAt?.toISOString() ?? null,
                attempt_at: result.attemptAt?.toISOString() ?? null,
                fired_at: result.fired?.at.toISOString() ?? null,
                run_id: result.fired?.runId ?? null,
                skipped: result.skipped,
                error: result.error,
              })),
            ),
          ],
        );
      }
      await runner.commitTransaction();
      return rows.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
