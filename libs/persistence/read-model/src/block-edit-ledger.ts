import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { operationOf, type BlockEditOperation, type MemoryEdit } from '@lrs/contracts';
import { applyBlockEdit, replayBlockEdits, type EditableBlock } from '@lrs/domain-run';
import { storableJson, storableText } from './pg-values';

/** Who writes an edit: a step of a run, the API, a tool run outside runs. */
export interface EditWriter {
  source: 'step' | 'api' | 'tool_run';
  organizationId: string;
  /** The agent whose labels the edits name (an API edit names its block by id instead). */
  agentId: string | null;
  runId?: string | null;
  stepId?: string | null;
}

/** An edit to commit: by label on the writer's agent, or by block id. */
export interface EditToCommit {
  id: string;
  label: string;
  operation: BlockEditOperation;
  toolCallId?: string;
  blockId?: string;
}

/** What became of an edit: applied (with the block's value and version after it), or refused with the tool's error. */
export type EditVerdict = { id: string; applied: true; edit: MemoryEdit } | { id: string; applied: false; toolCallId: string | undefined; error: string };

/**
 * Ledger rows older than this go (opportunistically). A revert reaches back only as far as a step
 * can wait between its write and its append: the worker's redeliveries, minutes. Blocks may hold a
 * megabyte, so the value each row keeps is not kept for long.
 */
const RETENTION = '1 day';
/** About one commit in this many prunes its blocks' old rows. */
const PRUNE_EVERY = 64;

interface LockedBlock {
  id: string;
  label: string;
  value: string;
  char_limit: number;
  read_only: boolean;
  version: number;
  /** The label it has on the writer's agent, when attached to it. */
  agent_label: string | null;
}

interface LedgerRow {
  seq: string;
  edit_id: string;
  block_id: string;
  operation: BlockEditOperation;
  value_before: string;
  version: number;
  tool_call_id: string | null;
  reverted_at: Date | null;
}

/**
 * Every change to a memory block's value commits here, inside the caller's transaction:
 *
 * - the blocks are locked (in id order, so writers of several shared blocks cannot deadlock) and
 *   each edit's operation is applied to the value the block has now, not the one its writer read;
 *   an edit that no longer applies is refused with the error its tool call then answers;
 * - each applied edit is a ledger row keyed by the edit's id: committing an edit whose id is there
 *   changes nothing (a retried write, a redelivered step rewriting its own outcome);
 * - a step's edits that are not in the outcome being written (an earlier attempt's, or an outcome
 *   the run's log does not hold) are taken back: the block's later edits are replayed without them.
 *
 * Concurrent writers of one block are applied in the order they take the block's lock, and all
 * keep their changes; `version` counts the changes.
 */
export class BlockEditLedger {
  /**
   * Commits `edits` (in order) for `writer`. With a step, the result is exactly that step's edits:
   * its earlier edits not among them are reverted first.
   */
  static async commit(manager: EntityManager, writer: EditWriter, edits: readonly EditToCommit[]): Promise<EditVerdict[]> {
    const earlier: LedgerRow[] = writer.stepId
      ? await manager.query(`SELECT * FROM block_edits WHERE step_id = $1 AND reverted_at IS NULL ORDER BY seq`, [writer.stepId])
      : [];
    const wanted = new Set(edits.map((edit) => edit.id));
    const stale = earlier.filter((row) => !wanted.has(row.edit_id));
    if (edits.length === 0 && stale.length === 0) return [];

    const blocks = await lockBlocks(manager, writer, edits, stale.map((row) => row.block_id));
    const byId = new Map(blocks.map((block) => [block.id, block]));
    const byLabel = new Map(blocks.filter((block) => block.agent_label !== null).map((block) => [block.agent_label!, block]));
    const changed = new Set<LockedBlock>();

    for (const blockId of new Set(stale.map((row) => row.block_id))) {
      const block = byId.get(blockId);
      if (!block) continue;
      await revertOnBlock(manager, block, new Set(stale.filter((row) => row.block_id === blockId).map((row) => row.edit_id)), 'the step that made it did not commit this outcome');
      changed.add(block);
    }

    const done: LedgerRow[] = edits.length
      ? await manager.query(`SELECT * FROM block_edits WHERE edit_id = ANY ($1) AND reverted_at IS NULL`, [edits.map((edit) => edit.id)])
      : [];
    const already = new Map(done.map((row) => [row.edit_id, row]));
    const verdicts: EditVerdict[] = [];
    const rows: Record<string, unknown>[] = [];
    for (const edit of edits) {
      const previous = already.get(edit.id);
      if (previous) {
        const block = byId.get(previous.block_id);
        // Committed before (a retried write): the value is the block's now.
        verdicts.push(applied(edit, previous.block_id, block?.label ?? edit.label, block?.value ?? '', previous.version));
        continue;
      }
      const block = edit.blockId !== undefined ? byId.get(edit.blockId) : byLabel.get(edit.label);
      const operation = storableOperation(edit.operation);
      const result = applyBlockEdit(block && editable(block), edit.label, operation, { reapplying: true });
      if (!result.ok) {
        verdicts.push({ id: edit.id, applied: false, toolCallId: edit.toolCallId, error: result.error });
        continue;
      }
      const target = block!;
      rows.push({
        edit_id: edit.id,
        block_id: target.id,
        organization_id: writer.organizationId,
        source: writer.source,
        agent_id: writer.agentId,
        run_id: writer.runId ?? null,
        step_id: writer.stepId ?? null,
        tool_call_id: edit.toolCallId ?? null,
        operation,
        value_before: target.value,
        version: target.version + 1,
      });
      target.value = result.value;
      target.version += 1;
      changed.add(target);
      verdicts.push(applied(edit, target.id, target.label, target.value, target.version));
    }

    if (rows.length) {
      // An edit taken back earlier (a concurrent attempt's write) and committed again reuses its row,
      // moved to the end of the block's history, where its commit now is.
      await manager.query(
        `INSERT INTO block_edits (edit_id, block_id, organization_id, source, agent_id, run_id, step_id, tool_call_id, operation, value_before, version)
         SELECT edit_id, block_id, organization_id, source, agent_id, run_id, step_id, tool_call_id, operation, value_before, version
         FROM jsonb_to_recordset($1::jsonb) AS e (edit_id text, block_id text, organization_id text, source text, agent_id text, run_id text, step_id text,
           tool_call_id text, operation jsonb, value_before text, version integer)
         ON CONFLICT (edit_id) DO UPDATE SET seq = nextval(pg_get_serial_sequence('block_edits', 'seq')), block_id = excluded.block_id, operation = excluded.operation,
           value_before = excluded.value_before, version = excluded.version, created_at = now(), reverted_at = NULL, revert_reason = NULL`,
        [storableJson(rows)],
      );
    }
    await saveBlocks(manager, [...changed]);
    if (changed.size && Math.random() * PRUNE_EVERY < 1) {
      await manager.query(`DELETE FROM block_edits WHERE block_id = ANY ($1) AND created_at < now() - interval '${RETENTION}'`, [[...changed].map((b) => b.id)]);
    }
    return verdicts;
  }

  /** Takes back every edit of a step whose outcome the run's log does not hold (its append lost). */
  static async revertStep(manager: EntityManager, writer: EditWriter & { stepId: string }): Promise<void> {
    await BlockEditLedger.commit(manager, writer, []);
  }

  /** A new id for an edit. */
  static newEditId(): string {
    return randomUUID();
  }
}

function applied(edit: EditToCommit, blockId: string, label: string, value: string, version: number): EditVerdict {
  return {
    id: edit.id,
    applied: true,
    edit: { id: edit.id, label, ...(edit.toolCallId ? { toolCallId: edit.toolCallId } : {}), operation: edit.operation, value, blockId, version },
  };
}

function editable(block: LockedBlock): EditableBlock {
  return { label: block.label, value: block.value, limit: block.char_limit, readOnly: block.read_only };
}

function storableOperation(operation: BlockEditOperation): BlockEditOperation {
  switch (operation.kind) {
    case 'insert':
      return { ...operation, newStr: storableText(operation.newStr) };
    case 'replace':
      return { ...operation, oldStr: storableText(operation.oldStr), newStr: storableText(operation.newStr) };
    case 'rethink':
      return { ...operation, newValue: storableText(operation.newValue) };
  }
}

/** Locks the blocks the edits name (by label on the writer's agent, or by id) and those to revert, in id order. */
async function lockBlocks(manager: EntityManager, writer: EditWriter, edits: readonly EditToCommit[], revertIds: string[]): Promise<LockedBlock[]> {
  const labels = edits.filter((edit) => edit.blockId === undefined).map((edit) => edit.label);
  const ids = [...revertIds, ...edits.flatMap((edit) => (edit.blockId === undefined ? [] : [edit.blockId]))];
  return manager.query(
    `SELECT b.id, b.label, b.value, b.char_limit, b.read_only, b.version, ab.block_label AS agent_label
     FROM blocks b LEFT JOIN agent_blocks ab ON ab.block_id = b.id AND ab.agent_id = $1
     WHERE b.organization_id = $4 AND ((ab.agent_id IS NOT NULL AND ab.block_label = ANY ($2)) OR b.id = ANY ($3))
     ORDER BY b.id FOR UPDATE OF b`,
    [writer.agentId, labels, ids, writer.organizationId],
  );
}

/** Replays the block's edits since the first of `removed` without them; edits that no longer apply are dropped too. */
async function revertOnBlock(manager: EntityManager, block: LockedBlock, removed: Set<string>, reason: string): Promise<void> {
  const history: LedgerRow[] = await manager.query(
    `SELECT * FROM block_edits WHERE block_id = $1 AND reverted_at IS NULL
       AND seq >= (SELECT min(seq) FROM block_edits WHERE block_id = $1 AND edit_id = ANY ($2))
     ORDER BY seq`,
    [block.id, [...removed]],
  );
  if (history.length === 0) return;
  const replay = replayBlockEdits(
    editable(block),
    history[0].value_before,
    history.map((row) => ({ key: row.edit_id, operation: row.operation })),
    removed,
  );
  const updates = replay.steps.map((step) => ({
    edit_id: step.key,
    value_before: step.before,
    reverted: step.after === null,
    reason: removed.has(step.key) ? reason : step.error,
  }));
  await manager.query(
    `UPDATE block_edits e SET value_before = u.value_before, reverted_at = CASE WHEN u.reverted THEN now() ELSE NULL END, revert_reason = u.reason
     FROM jsonb_to_recordset($1::jsonb) AS u (edit_id text, value_before text, reverted boolean, reason text)
     WHERE e.edit_id = u.edit_id`,
    [storableJson(updates)],
  );
  block.value = replay.value;
  block.version += 1;
}

async function saveBlocks(manager: EntityManager, blocks: LockedBlock[]): Promise<void> {
  if (blocks.length === 0) return;
  await manager.query(
    `UPDATE blocks b SET value = u.value, version = u.version, updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS u (id text, value text, version integer) WHERE b.id = u.id`,
    [storableJson(blocks.map((block) => ({ id: block.id, value: block.value, version: block.version })))],
  );
}

/** Edits from a StepCompleted event (older events carry only the resulting value: a rethink). */
export function editsOfEvent(edits: readonly MemoryEdit[], stepId: string): EditToCommit[] {
  return edits.map((edit, index) => ({
    // Old events have no edit ids: one per position in the step keeps a rewrite of the same event idempotent.
    id: edit.id ?? `${stepId}:${index}`,
    label: edit.label,
    operation: operationOf(edit),
    ...(edit.toolCallId ? { toolCallId: edit.toolCallId } : {}),
    // A step that created or renamed the block names it by id: its label may differ by the time the edit commits.
    ...(edit.blockId ? { blockId: edit.blockId } : {}),
  }));
}
