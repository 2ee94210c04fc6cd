import type { DataSource } from 'typeorm';
import { RunProjection, type ProjectableEvent } from './run-projection';

/** The event log as the rebuild reads it. */
export interface RunEventLog {
  lastStreamSeq(): Promise<number>;
  readAll(untilStreamSeq: number): AsyncIterable<ProjectableEvent>;
}

export interface RebuildResult {
  events: number;
  runs: number;
  /** The last stream sequence the rebuilt tables include. */
  untilStreamSeq: number;
}

/** The tables the projector derives from the event log; the rebuild recreates them (steps keep users' feedback). */
export const RUN_DERIVED_TABLES = ['runs', 'steps', 'callback_attempts'] as const;

/**
 * Recreates the run tables of the read model from the event log, in one transaction: readers keep
 * seeing the old rows until it commits, and writers (the projector, the gateway's write-through of
 * a new run, a step writing its messages) wait for it, then find their work already applied or
 * apply it on top. The log is read up to its end as seen once the tables are locked, so nothing the
 * projector committed before is lost. Messages are not deleted: each keeps its place in its thread
 * (what compaction and reset refer to); missing ones are restored from the log, and those of runs
 * deleted in the log are removed again. Steps keep the feedback and tags users gave them.
 */
export async function rebuildRunTables(dataSource: DataSource, log: RunEventLog, batchSize = 500): Promise<RebuildResult> {
  const projection = new RunProjection(dataSource);
  return dataSource.transaction('READ COMMITTED', async (manager) => {
    await manager.query(`LOCK TABLE runs, steps, callback_attempts, messages IN EXCLUSIVE MODE`);
    const untilStreamSeq = await log.lastStreamSeq();
    // Feedback and tags on steps are users' (PATCH /v1/steps/{id}/feedback), not the log's: kept
    // aside and put back on the rebuilt steps (same ids); those of steps the log no longer has go.
    await manager.query(
      `CREATE TEMPORARY TABLE rebuild_step_feedback ON COMMIT DROP AS SELECT id, feedback, tags FROM steps WHERE feedback IS NOT NULL OR tags <> '{}'`,
    );
    for (const table of [...RUN_DERIVED_TABLES].reverse()) await manager.query(`DELETE FROM ${table}`);
    let events = 0;
    let batch: ProjectableEvent[] = [];
    for await (const item of log.readAll(untilStreamSeq)) {
      batch.push(item);
      if (batch.length >= batchSize) {
        await projection.applyIn(manager, batch, { lockThreads: false });
        events += batch.length;
        batch = [];
      }
    }
    await projection.applyIn(manager, batch, { lockThreads: false });
    events += batch.length;
    await manager.query(`UPDATE steps SET feedback = f.feedback, tags = f.tags FROM rebuild_step_feedback f WHERE steps.id = f.id`);
    const [{ count }]: { count: string }[] = await manager.query(`SELECT count(*) AS count FROM runs`);
    return { events, runs: Number(count), untilStreamSeq };
  });
}
