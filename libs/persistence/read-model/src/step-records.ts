import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { BlockChange, LettaMessage, MemoryEdit } from '@lrs/contracts';
import { withRefusedEdits } from '@lrs/domain-run';
import { BlockChangeLedger } from './block-change-ledger';
import { BlockEditLedger, editsOfEvent, type EditWriter } from './block-edit-ledger';
import { insertMessages, type MessageOwner } from './pg-values';

export interface StepRecord {
  owner: MessageOwner & { runId: string };
  stepId: string;
  /** The run's input, written with its first step (ids already stored are left alone). */
  input: readonly LettaMessage[];
  messages: readonly LettaMessage[];
  /** The step's memory edits, as operations with ids, in the order its tools made them. */
  memoryEdits: readonly MemoryEdit[];
  /** Blocks the step created, deleted or renamed (ids), committed before its edits. */
  blockChanges?: readonly BlockChange[];
  /**
   * The run's log already holds this outcome (the worker makes its rows match the event that won).
   * Its messages are then written as they are, even if an edit no longer applies.
   */
  fromLog?: boolean;
  /** Archival passages the step inserted (ids): those of an earlier attempt not among them go. */
  passageIds?: readonly string[];
  /** Writes of the step's other rows (its passages, by the archival store), inside its transaction. */
  alsoWrite?: (manager: EntityManager) => Promise<void>;
}

/** The step as written: its messages (tool calls whose edit was refused now answer with the error) and the edits committed. */
export interface WrittenStep {
  messages: LettaMessage[];
  memoryEdits: MemoryEdit[];
  blockChanges: BlockChange[];
}

/**
 * What a step leaves in its thread, written by the llm-worker itself in one transaction before it
 * appends the step's event: the run's input (with the first step), the step's messages and its
 * memory edits. Whoever reads the thread after that event (the next step, the next run of the
 * thread) finds them without waiting for the projector. A step is written again as a whole: an
 * earlier attempt's rows of the same step (a worker that died before its append) are replaced,
 * its memory edits taken back, and rows already there with the same ids (this attempt's own,
 * written before a crash) stay put.
 */
export class StepRecords {
  private readonly logger = new Logger(StepRecords.name);

  constructor(private readonly dataSource: DataSource) {}

  async write(record: StepRecord): Promise<WrittenStep> {
    const writer = writerOf(record);
    // An earlier attempt's rows of the step go, except those this write keeps (same ids): they keep
    // their place in the thread, which later runs' messages may already follow. Done on every
    // attempt: a delivery count is no proof of a first attempt (a restarted server may forget it).
    const write = (manager: EntityManager, messages: readonly LettaMessage[]) =>
      insertMessages(manager, record.owner, [...record.input, ...messages], { replacingStep: record.stepId });
    const changes = record.blockChanges ?? [];
    if (record.memoryEdits.length === 0 && changes.length === 0 && !record.passageIds?.length) {
      // The common case is one statement, atomic on its own; it says whether an earlier attempt left edits or passages.
      const { stepHasOtherRows } = await write(this.dataSource.manager, record.messages);
      if (stepHasOtherRows) await this.dataSource.transaction((manager) => takeBack(manager, writer, record.stepId));
      return { messages: [...record.messages], memoryEdits: [], blockChanges: [] };
    }
    return this.dataSource.transaction(async (manager) => {
      await removeStepPassages(manager, record.stepId, record.passageIds ?? []);
      await record.alsoWrite?.(manager);
      // Block changes first: an edit may name a block the step created (edits of a created block taken back go with it).
      const changeVerdicts = await BlockChangeLedger.commit(manager, changeWriterOf(record), changes);
      const verdicts = await BlockEditLedger.commit(manager, writer, editsOfEvent(record.memoryEdits, record.stepId));
      const refused = [
        ...changeVerdicts.flatMap((verdict) => (verdict.applied ? [] : [{ what: 'a block change', toolCallId: verdict.change.toolCallId, error: verdict.error }])),
        ...verdicts.flatMap((verdict) =>
          verdict.applied ? [] : [{ what: `an edit of block '${record.memoryEdits.find((e) => e.id === verdict.id)?.label}'`, toolCallId: verdict.toolCallId, error: verdict.error }],
        ),
      ];
      const refusals = new Map<string, string>();
      for (const { what, toolCallId, error } of refused) {
        if (record.fromLog) this.logger.warn(`step ${record.stepId}: ${what} in the run's log no longer applies: ${error}`);
        else if (toolCallId !== undefined) refusals.set(toolCallId, error);
      }
      const messages = record.fromLog ? [...record.messages] : withRefusedEdits(record.messages, refusals);
      await write(manager, messages);
      return {
        messages,
        memoryEdits: verdicts.flatMap((verdict) => (verdict.applied ? [verdict.edit] : [])),
        blockChanges: changeVerdicts.flatMap((verdict) => (verdict.applied ? [verdict.change] : [])),
      };
    });
  }

  /**
   * Before a step runs again (a redelivery whose earlier attempt never reached the log): that
   * attempt's block changes are taken back, so this attempt's tools see the agent's blocks as the
   * log has them (a block it created would otherwise already exist). Its edits are left to the
   * write, which takes them back. True when there were changes. Should the earlier attempt still
   * win the append, this attempt's append loses and the winner's outcome is written again.
   */
  async takeBackBlockChanges(owner: MessageOwner & { runId: string }, stepId: string): Promise<boolean> {
    return this.dataSource.transaction((manager) => BlockChangeLedger.revertStep(manager, changeWriterOf({ owner, stepId })));
  }

  /** The step's append lost (the run was cancelled or another attempt answered first): its rows and passages go, its memory edits are taken back. */
  async discard(owner: MessageOwner & { runId: string }, stepId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM messages WHERE run_id = $1 AND step_id = $2`, [owner.runId, stepId]);
      await takeBack(manager, writerOf({ owner, stepId }), stepId);
    });
  }
}

/** Takes back what a step wrote besides its messages: its memory edits and its archival passages. */
async function takeBack(manager: EntityManager, writer: EditWriter, stepId: string): Promise<void> {
  await BlockEditLedger.revertStep(manager, { ...writer, stepId });
  await BlockChangeLedger.revertStep(manager, { organizationId: writer.organizationId, agentId: writer.agentId!, runId: writer.runId!, stepId });
  await removeStepPassages(manager, stepId, []);
}

/**
 * Deletes a step's archival passages other than `keep`, counting them off their archives (whose
 * generation moves on, so vector indexes load them again).
 */
async function removeStepPassages(manager: EntityManager, stepId: string, keep: readonly string[]): Promise<void> {
  await manager.query(
    `WITH gone AS (DELETE FROM passages WHERE step_id = $1 AND NOT (id = ANY ($2)) RETURNING archive_id)
     UPDATE archives a SET passage_count = passage_count - g.n, generation = generation + 1, updated_at = now()
     FROM (SELECT archive_id, count(*)::int AS n FROM gone GROUP BY archive_id) g WHERE a.id = g.archive_id`,
    [stepId, [...keep]],
  );
}

function changeWriterOf(record: Pick<StepRecord, 'owner' | 'stepId'>) {
  return { organizationId: record.owner.organizationId, agentId: record.owner.agentId, runId: record.owner.runId, stepId: record.stepId };
}

function writerOf(record: Pick<StepRecord, 'owner' | 'stepId'>): EditWriter {
  return { source: 'step', organizationId: record.owner.organizationId, agentId: record.owner.agentId, runId: record.owner.runId, stepId: record.stepId };
}
