import type { DataSource, EntityManager } from 'typeorm';
import type { LettaMessage } from '@lrs/contracts';
import { messageTokens } from '@lrs/domain-run';
import { insertMessages } from './pg-values';

/** How many of a thread's own messages a model call sees at most (the newest ones). */
export const CONTEXT_MESSAGE_LIMIT = 500;

export interface ThreadRef {
  organizationId: string;
  agentId: string;
  /** The agent id for its default thread, the conversation id otherwise. */
  laneId: string;
}

/**
 * The in-context messages of a thread: the messages it starts from (inherited by a fork, or a
 * compaction's summary and what it kept), then its own run messages after the context start,
 * plus every message of `runId` when a run asks for its own context (a reset or compaction in the
 * middle of a run never cuts the run's earlier steps out of its next call). A thread runs one run
 * at a time and each step writes its messages before its event exists, so the thread's rows are
 * exactly those of its finished runs and of the run asking: no join with the (projected) runs.
 */
function contextSql(forRun: boolean): string {
  // A run reading its own thread needs no status: the thread runs one run at a time, so every
  // other run with messages in it has ended. A reader outside runs (fork, recompile) names the
  // run in progress, if any, to leave its partial messages out.
  const own = forRun ? `(m.run_id = $3 OR m.sequence_id > ctx.after)` : `m.sequence_id > ctx.after AND m.run_id IS DISTINCT FROM $3::text`;
  return `
  WITH ctx AS (
    SELECT coalesce((SELECT base_message_ids FROM thread_contexts WHERE lane_id = $1), '{}'::text[]) AS base,
           coalesce((SELECT starts_after_sequence FROM thread_contexts WHERE lane_id = $1), 0) AS after
  )
  SELECT id, sequence_id, body, token_count FROM (
    SELECT m.id, m.sequence_id, m.body, m.token_count, 0 AS part, array_position(ctx.base, m.id)::bigint AS position
    FROM messages m, ctx WHERE m.id = ANY (ctx.base)
    UNION ALL
    SELECT own.id, own.sequence_id, own.body, own.token_count, 1, own.sequence_id FROM (
      SELECT m.id, m.sequence_id, m.body, m.token_count FROM messages m, ctx
      WHERE m.lane_id = $1 AND m.agent_id = $2 AND m.run_id IS NOT NULL AND ${own}
      ORDER BY m.sequence_id DESC LIMIT $4
    ) own
  ) context ORDER BY part, position`;
}
const CONTEXT_FOR_RUN_SQL = contextSql(true);
const CONTEXT_OUTSIDE_RUNS_SQL = contextSql(false);

export interface ContextMessage {
  id: string;
  sequenceId: number;
  body: LettaMessage;
  /** What the message costs in a prompt, counted when it was stored (counted now for older rows). */
  tokens: number;
}

/** The first key of threads' advisory locks (the second is the lane's hash): apart from any other advisory lock. */
const THREAD_LOCK_CLASS = 7_341_101;

/**
 * A thread's reset and the projector's restoring of its messages take turns on this lock: the
 * reset holds it alone, a projection batch shares it for the threads of its runs (from its first
 * read of them, RunProjection's lock of the batch's runs). Without it, a restore whose statement
 * began before a reset committed would still see the thread not reset, then put back a message
 * the reset had just deleted. A transaction-level advisory lock: released by commit or rollback.
 */
export function threadLock(laneIdSql: string, mode: 'shared' | 'exclusive'): string {
  return `${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(${THREAD_LOCK_CLASS}, hashtext(${laneIdSql}))`;
}
/** Reads and moves what each thread shows the model (reset, compaction, fork). */
export class ThreadContextStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * `reader`: the run asking for its own context, or, for a reader outside runs, the thread's run
   * in progress (whose messages so far are left out).
   */
  async messages(
    thread: Pick<ThreadRef, 'agentId' | 'laneId'>,
    reader: { runId: string } | { inProgress: string | null } = { inProgress: null },
    limit = CONTEXT_MESSAGE_LIMIT,
  ): Promise<ContextMessage[]> {
    const rows: { id: string; sequence_id: string; body: LettaMessage; token_count: number | null }[] =
      'runId' in reader
        ? await this.dataSource.query(CONTEXT_FOR_RUN_SQL, [thread.laneId, thread.agentId, reader.runId, limit])
        : await this.dataSource.query(CONTEXT_OUTSIDE_RUNS_SQL, [thread.laneId, thread.agentId, reader.inProgress, limit]);
    return rows.map((row) => ({ id: row.id, sequenceId: Number(row.sequence_id), body: row.body, tokens: row.token_count ?? messageTokens(row.body) }));
  }

  /**
   * Letta's reset: the thread's messages so far (those of its runs, and those made outside runs)
   * are deleted and its context starts empty. Messages of `inProgress`, a run that began in the
   * meantime, are neither deleted nor cut out of the context.
   */
  async reset(thread: ThreadRef, inProgress: string | null = null): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      // Alone, so the delete below reads the thread as it is once the lock is held (a statement
      // sees what was committed when it started).
      await manager.query(`SELECT ${threadLock('$1', 'exclusive')}`, [thread.laneId]);
      const [deleted]: { up_to: string }[] = await manager.query(
        `WITH gone AS (
           DELETE FROM messages WHERE lane_id = $2 AND agent_id = $1 AND run_id IS DISTINCT FROM $3::text
           RETURNING sequence_id
         ) SELECT coalesce(max(sequence_id), 0) AS up_to FROM gone`,
        [thread.agentId, thread.laneId, inProgress],
      );
      await ThreadContextStore.setContext(manager, thread, [], Number(deleted.up_to));
      // The projector must not restore what was just deleted (insertOwnedMessages, exceptReset).
      await manager.query(`UPDATE thread_contexts SET reset_at = now() WHERE lane_id = $1`, [thread.laneId]);
    });
  }

  /**
   * Replaces what the thread's context held up to `seenUpToSequence` (what the summariser read) by
   * `summary`, a message of the thread made outside any run, and the messages it keeps. Messages
   * of runs that ended after the summariser read the context stay in it, after these.
   */
  async compact(thread: ThreadRef, summary: LettaMessage, keptMessageIds: string[], seenUpToSequence: number): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await ThreadContextStore.insertOutsideRuns(manager, thread, [summary]);
      await ThreadContextStore.setContext(manager, thread, [summary.id, ...keptMessageIds], seenUpToSequence);
    });
  }

  /** A new thread (a forked conversation) starts from these messages of another one. */
  async inherit(thread: ThreadRef, messageIds: string[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    await ThreadContextStore.setContext(manager, thread, messageIds, 0);
  }

  /**
   * An imported thread's history: messages made outside any run, of which `inContextIds` start its
   * context (inside the transaction that creates the agent).
   */
  static async seed(manager: EntityManager, thread: ThreadRef, messages: LettaMessage[], inContextIds: string[]): Promise<void> {
    await ThreadContextStore.insertOutsideRuns(manager, thread, messages);
    await ThreadContextStore.setContext(manager, thread, inContextIds, 0);
  }

  async forget(laneId: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(`DELETE FROM thread_contexts WHERE lane_id = $1`, [laneId]);
    await manager.query(`DELETE FROM messages WHERE lane_id = $1`, [laneId]);
  }

  private static async insertOutsideRuns(manager: EntityManager, thread: ThreadRef, messages: LettaMessage[]): Promise<void> {
    await insertMessages(manager, { ...thread, runId: null }, messages);
  }

  private static async setContext(manager: EntityManager, thread: ThreadRef, base: string[], startsAfterSequence: number): Promise<void> {
    await manager.query(
      `INSERT INTO thread_contexts (lane_id, organization_id, agent_id, base_message_ids, starts_after_sequence, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (lane_id) DO UPDATE SET base_message_ids = EXCLUDED.base_message_ids,
         starts_after_sequence = EXCLUDED.starts_after_sequence, updated_at = now()`,
      [thread.laneId, thread.organizationId, thread.agentId, base, startsAfterSequence],
    );
  }
}
