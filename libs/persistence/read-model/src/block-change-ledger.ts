import type { EntityManager } from 'typeorm';
import type { BlockChange, BlockChangeOperation } from '@lrs/contracts';
import { MAX_AGENT_BLOCKS } from '@lrs/domain-run';
import { storableJson, storableText } from './pg-values';

/** Who commits the changes: one step of a run of one agent. */
export interface ChangeWriter {
  organizationId: string;
  agentId: string;
  runId: string;
  stepId: string;
}

/** What became of a change: applied, or refused with the error its tool call then answers. */
export type ChangeVerdict = { change: BlockChange; applied: true } | { change: BlockChange; applied: false; error: string };

interface ChangeRow {
  change_id: string;
  operation: BlockChangeOperation;
  undo: Undo | null;
  reverted_at: Date | null;
}

/** What taking a change back needs: the attachment a delete removed, the label or description before. */
type Undo = { position: number } | { label: string } | { description: string | null } | Record<string, never>;

/**
 * A step's block changes (Letta's `memory` create, delete, rename) commit here, in the step's
 * transaction, before its memory edits (an edit may name a block the step created):
 *
 * - each change is a row keyed by its id: committing a change already there changes nothing;
 * - a change is applied to the agent as it is now: a create whose label another writer took
 *   meanwhile, or that would exceed the block count, is refused like an edit that no longer applies;
 * - the step's earlier changes not in the outcome being written are taken back, newest first: a
 *   created block is deleted, a deleted one attached again where it was, a rename or description
 *   set back (unless another writer changed it since).
 *
 * The agent's row is locked first, as attaches lock it, so block counts and labels stay consistent.
 */
export class BlockChangeLedger {
  static async commit(manager: EntityManager, writer: ChangeWriter, changes: readonly BlockChange[]): Promise<ChangeVerdict[]> {
    const earlier: ChangeRow[] = await manager.query(`SELECT * FROM block_changes WHERE step_id = $1 AND reverted_at IS NULL ORDER BY seq DESC`, [writer.stepId]);
    const wanted = new Set(changes.map((change) => change.id));
    const stale = earlier.filter((row) => !wanted.has(row.change_id));
    if (changes.length === 0 && stale.length === 0) return [];
    await manager.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [writer.agentId]);
    for (const row of stale) await takeBack(manager, writer, row);
    const done = new Set(earlier.map((row) => row.change_id));
    const verdicts: ChangeVerdict[] = [];
    for (const change of changes) {
      if (done.has(change.id)) {
        verdicts.push({ change, applied: true });
        continue;
      }
      const applied = await apply(manager, writer, change.operation);
      if (typeof applied === 'string') {
        verdicts.push({ change, applied: false, error: applied });
        continue;
      }
      // A change taken back earlier (a concurrent attempt's write) and committed again reuses its row.
      await manager.query(
        `INSERT INTO block_changes (change_id, organization_id, agent_id, run_id, step_id, tool_call_id, operation, undo)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)
         ON CONFLICT (change_id) DO UPDATE SET seq = nextval(pg_get_serial_sequence('block_changes', 'seq')), undo = excluded.undo, created_at = now(), reverted_at = NULL`,
        [change.id, writer.organizationId, writer.agentId, writer.runId, writer.stepId, change.toolCallId ?? null, storableJson(change.operation), storableJson(applied)],
      );
      verdicts.push({ change, applied: true });
    }
    if (Math.random() * 64 < 1) await manager.query(`DELETE FROM block_changes WHERE created_at < now() - interval '1 day'`);
    return verdicts;
  }

  /** Takes back every change of a step whose outcome the run's log does not hold; false when it had none. */
  static async revertStep(manager: EntityManager, writer: ChangeWriter): Promise<boolean> {
    const earlier: ChangeRow[] = await manager.query(`SELECT * FROM block_changes WHERE step_id = $1 AND reverted_at IS NULL ORDER BY seq DESC`, [writer.stepId]);
    if (earlier.length === 0) return false;
    await manager.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [writer.agentId]);
    for (const row of earlier) await takeBack(manager, writer, row);
    return true;
  }
}

/** Applies one change to the agent as it is now: what taking it back needs, or the error refusing it. */
async function apply(manager: EntityManager, writer: ChangeWriter, operation: BlockChangeOperation): Promise<Undo | string> {
  switch (operation.kind) {
    case 'create': {
      const label = storableText(operation.label);
      if (await labelTaken(manager, writer.agentId, label)) return `Error: a memory block labelled '${label}' already exists.`;
      const [{ n }]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM agent_blocks WHERE agent_id = $1`, [writer.agentId]);
      if (n >= MAX_AGENT_BLOCKS) return `Error: an agent has at most ${MAX_AGENT_BLOCKS} memory blocks; delete one first.`;
      const value = storableText(operation.value);
      if (value.length > operation.limit) return `Error: the value has ${value.length} characters; the block holds at most ${operation.limit}.`;
      await manager.query(
        `INSERT INTO blocks (id, organization_id, label, value, char_limit, description, read_only, metadata, tags, standalone)
         VALUES ($1, $2, $3, $4, $5, $6, false, NULL, '{}', false) ON CONFLICT (id) DO NOTHING`,
        [operation.blockId, writer.organizationId, label, value, operation.limit, operation.description === null ? null : storableText(operation.description)],
      );
      await attach(manager, writer.agentId, operation.blockId, label, null);
      return {};
    }
    case 'delete': {
      const gone: { position: number }[] = await manager.query(
        `WITH gone AS (DELETE FROM agent_blocks WHERE agent_id = $1 AND block_id = $2 RETURNING position) SELECT position FROM gone`,
        [writer.agentId, operation.blockId],
      );
      // Detached meanwhile (by the API): the agent already is as the change wants it; nothing to take back.
      return gone.length ? { position: gone[0].position } : {};
    }
    case 'rename': {
      const newLabel = storableText(operation.newLabel);
      const block = await attachedBlock(manager, writer, operation.blockId);
      if (!block) return `Error: memory block '${operation.label}' is no longer attached to this agent.`;
      if (await labelTakenOnAgentsOf(manager, operation.blockId, newLabel)) return `Error: an agent this block is attached to already has a block labelled '${newLabel}'.`;
      await relabel(manager, operation.blockId, newLabel);
      return { label: block.label };
    }
    case 'describe': {
      const block = await attachedBlock(manager, writer, operation.blockId);
      if (!block) return `Error: memory block '${operation.label}' is no longer attached to this agent.`;
      await manager.query(`UPDATE blocks SET description = $2, updated_at = now() WHERE id = $1`, [operation.blockId, storableText(operation.description)]);
      return { description: block.description };
    }
  }
}

/** Takes one applied change back, as far as the agent still is as the change left it. */
async function takeBack(manager: EntityManager, writer: ChangeWriter, row: ChangeRow): Promise<void> {
  const { operation } = row;
  const undo = row.undo ?? {};
  switch (operation.kind) {
    case 'create':
      // The block never existed in the log's history: it goes, with anything done to it since.
      await manager.query(`DELETE FROM blocks WHERE id = $1 AND organization_id = $2`, [operation.blockId, writer.organizationId]);
      break;
    case 'delete':
      if ('position' in undo) {
        const [block]: { label: string }[] = await manager.query(`SELECT label FROM blocks WHERE id = $1 FOR SHARE`, [operation.blockId]);
        if (block && !(await labelTaken(manager, writer.agentId, block.label))) await attach(manager, writer.agentId, operation.blockId, block.label, undo.position);
      }
      break;
    case 'rename': {
      const [block]: { label: string }[] = await manager.query(`SELECT label FROM blocks WHERE id = $1 FOR UPDATE`, [operation.blockId]);
      if ('label' in undo && block?.label === operation.newLabel && !(await labelTakenOnAgentsOf(manager, operation.blockId, undo.label))) await relabel(manager, operation.blockId, undo.label);
      break;
    }
    case 'describe':
      if ('description' in undo) {
        await manager.query(`UPDATE blocks SET description = $2::text, updated_at = now() WHERE id = $1 AND description IS NOT DISTINCT FROM $3::text`, [operation.blockId, undo.description, operation.description]);
      }
      break;
  }
  await manager.query(`UPDATE block_changes SET reverted_at = now() WHERE change_id = $1`, [row.change_id]);
}

async function attachedBlock(manager: EntityManager, writer: ChangeWriter, blockId: string): Promise<{ label: string; description: string | null } | undefined> {
  const [block]: { label: string; description: string | null }[] = await manager.query(
    `SELECT b.label, b.description FROM blocks b JOIN agent_blocks ab ON ab.block_id = b.id AND ab.agent_id = $2 WHERE b.id = $1 FOR UPDATE OF b`,
    [blockId, writer.agentId],
  );
  return block;
}

async function attach(manager: EntityManager, agentId: string, blockId: string, label: string, position: number | null): Promise<void> {
  await manager.query(
    `INSERT INTO agent_blocks (agent_id, block_id, block_label, position)
     VALUES ($1, $2, $3, coalesce($4::int, (SELECT max(position) FROM agent_blocks WHERE agent_id = $1) + 1, 0)) ON CONFLICT (agent_id, block_id) DO NOTHING`,
    [agentId, blockId, label, position],
  );
}

async function labelTaken(manager: EntityManager, agentId: string, label: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(`SELECT 1 FROM agent_blocks WHERE agent_id = $1 AND block_label = $2`, [agentId, label]);
  return rows.length > 0;
}

/** Whether an agent that has the block has another block with `label`. */
async function labelTakenOnAgentsOf(manager: EntityManager, blockId: string, label: string): Promise<boolean> {
  const rows: unknown[] = await manager.query(
    `SELECT 1 FROM agent_blocks other JOIN agent_blocks mine ON mine.agent_id = other.agent_id AND mine.block_id = $1
     WHERE other.block_label = $2 AND other.block_id <> $1 LIMIT 1`,
    [blockId, label],
  );
  return rows.length > 0;
}

/** A label is the block's: every agent that has it sees the new one. */
async function relabel(manager: EntityManager, blockId: string, label: string): Promise<void> {
  await manager.query(`UPDATE blocks SET label = $2, updated_at = now() WHERE id = $1`, [blockId, label]);
  await manager.query(`UPDATE agent_blocks SET block_label = $2 WHERE block_id = $1`, [blockId, label]);
}
