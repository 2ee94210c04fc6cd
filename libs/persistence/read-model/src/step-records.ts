import type { DataSource } from 'typeorm';
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
  /** False on a step's first delivery: no earlier attempt can have written rows for it. */
  replacePrevious: boolean;
}

/**
 * What a step leaves in its thread, written by the llm-worker itself in one transaction before it
 * appends the step's event: the run's input (with the first step), the step's messages and its
 * memory edits. Whoever reads the thread after that event (the next step, the next run of the
 * thread) finds them without waiting for the projector. A step is written again as a whole: an
 * earlier attempt's rows of the same step (a worker that died before its append) are replaced.
 */
export class StepRecords {
  constructor(private readonly dataSource: DataSource) {}

  async write(record: StepRecord): Promise<void> {
    const messages = [...record.input, ...record.messages];
    if (!record.replacePrevious && record.memoryEdits.length === 0) {
      // The common case is one statement, atomic on its own.
      await insertMessages(this.dataSource.manager, record.owner, messages);
      return;
    }
    await this.dataSource.transaction(async (manager) => {
      if (record.replacePrevious) await manager.query(`DELETE FROM messages WHERE run_id = $1 AND step_id = $2`, [record.owner.runId, record.stepId]);
      await insertMessages(manager, record.owner, messages);
      if (record.memoryEdits.length) await AgentStore.applyMemoryEdits(manager, record.owner.agentId, [...record.memoryEdits]);
    });
  }

  /** The step's append lost (the run was cancelled or another attempt answered first): its rows go. */
  async discard(runId: string, stepId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM messages WHERE run_id = $1 AND step_id = $2`, [runId, stepId]);
  }
}
