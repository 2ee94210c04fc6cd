import type { DataSource, EntityManager } from 'typeorm';
import type { LettaMessage } from '@lrs/contracts';
import { AgentStore } from './agent-store';
import { insertMessages, type MessageOwner } from './pg-values';

export interface StepRecord {
  owner: MessageOwner & { runId: string };
  stepId: string;
  /** The run's input, written with its first step (ids already stored are left alone). */
  input: readonly LettaMessage[];
  messages: readonly LettaMessage[];
  memoryEdits: readonly { label: string; value: string }[];
}

/**
 * What a step leaves in its thread, written by the llm-worker itself in one transaction before it
 * appends the step's event: the run's input (with the first step), the step's messages and its
 * memory edits. Whoever reads the thread after that event (the next step, the next run of the
 * thread) finds them without waiting for the projector. A step is written again as a whole: an
 * earlier attempt's rows of the same step (a worker that died before its append) are replaced, and
 * rows already there with the same ids (this attempt's own, written before a crash) stay put.
 */
export class StepRecords {
  constructor(private readonly dataSource: DataSource) {}

  async write(record: StepRecord): Promise<void> {
    const messages = [...record.input, ...record.messages];
    // An earlier attempt's rows of the step go, except those this write keeps (same ids): they keep
    // their place in the thread, which later runs' messages may already follow. Done on every
    // attempt: a delivery count is no proof of a first attempt (a restarted server may forget it).
    const write = (manager: EntityManager) => insertMessages(manager, record.owner, messages, { replacingStep: record.stepId });
    if (record.memoryEdits.length === 0) {
      // The common case is one statement, atomic on its own.
      await write(this.dataSource.manager);
      return;
    }
    await this.dataSource.transaction(async (manager) => {
      await write(manager);
      await AgentStore.applyMemoryEdits(manager, record.owner.agentId, [...record.memoryEdits]);
    });
  }

  /** The step's append lost (the run was cancelled or another attempt answered first): its rows go. */
  async discard(runId: string, stepId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM messages WHERE run_id = $1 AND step_id = $2`, [runId, stepId]);
  }
}
