import { randomUUID } from 'node:crypto';
import { newId, type BlockChange, type BlockChangeOperation, type BlockEditOperation, type MemoryEdit } from '@lrs/contracts';
import type { EditableBlock } from '@lrs/domain-run';
import { agentTools, type AgentSnapshot, type ToolSnapshot } from '@lrs/read-model';
import type { StepPassage } from '../archival/archival-memory';

/**
 * What a step's tools act on: the agent's blocks as of this step, and the edits made so far. An
 * edit is kept as the operation the tool made (with an id), to be applied again at commit to the
 * block as it is then; the values here are what the step's later tool calls and prompt see.
 * Blocks created, deleted or renamed by the step's tools are changes (with ids) committed before
 * its edits; the view here already has them.
 */
export class ToolContext {
  private readonly edits: (MemoryEdit & { blockId?: string })[] = [];
  private readonly changes: BlockChange[] = [];
  private readonly values = new Map<string, string>();
  private readonly ids = new Map<string, string>();
  private readonly descriptions = new Map<string, string | null>();
  /** Blocks a change of this step touched: edits of them name the block by id (its label may differ at commit). */
  private readonly changed = new Set<string>();
  /** Passages the step's archival_memory_insert calls made, embedded, to be written with its rows. */
  readonly archivalInserts: StepPassage[] = [];

  constructor(
    readonly agent: AgentSnapshot,
    private readonly blocks: Map<string, EditableBlock>,
    /** Tools this agent may run on the server (base and custom), by name. */
    readonly tools: ReadonlyMap<string, ToolSnapshot>,
    /** Whether tools may create, delete or rename blocks: only a step commits such changes (not `agents.tools.run`). */
    readonly blockChangesAllowed = false,
  ) {
    for (const block of agent.blocks) {
      this.ids.set(block.label, block.id);
      this.descriptions.set(block.label, block.description);
    }
  }

  get agentId(): string {
    return this.agent.id;
  }

  /** Aborted when the run is cancelled: a tool still running is stopped. */
  signal: AbortSignal | undefined;

  /** The agent's blocks and tools as stored now, with no edits yet. */
  static of(agent: AgentSnapshot, options: { blockChanges?: boolean } = {}): ToolContext {
    return new ToolContext(
      agent,
      new Map(agent.blocks.map((b) => [b.label, { label: b.label, value: b.value, limit: b.charLimit, readOnly: b.readOnly }])),
      new Map(agentTools(agent).map((tool) => [tool.name, tool])),
      options.blockChanges ?? false,
    );
  }

  block(label: string): EditableBlock | undefined {
    const block = this.blocks.get(label);
    const edited = this.values.get(label);
    return block && edited !== undefined ? { ...block, value: edited } : block;
  }

  /** The labels of the agent's blocks in this step's view. */
  labels(): string[] {
    return [...this.blocks.keys()];
  }

  description(label: string): string | null {
    return this.descriptions.get(label) ?? null;
  }

  recordEdit(label: string, toolCallId: string, operation: BlockEditOperation, value: string): void {
    this.values.set(label, value);
    const blockId = this.ids.get(label);
    this.edits.push({ id: randomUUID(), label, toolCallId, operation, value, ...(blockId ? { blockId } : {}) });
  }

  /** A new block in this step's view, recorded as a change; its id is chosen now, so a rewrite of the step creates the same block. */
  recordCreate(toolCallId: string, block: { label: string; value: string; description: string | null; limit: number }): void {
    const blockId = newId('block');
    this.blocks.set(block.label, { label: block.label, value: block.value, limit: block.limit, readOnly: false });
    this.ids.set(block.label, blockId);
    this.descriptions.set(block.label, block.description);
    this.record(toolCallId, { kind: 'create', blockId, ...block });
  }

  /** The block leaves this agent (detached; the block itself stays for agents that share it). */
  recordDelete(toolCallId: string, label: string): void {
    const blockId = this.ids.get(label)!;
    this.blocks.delete(label);
    this.values.delete(label);
    this.ids.delete(label);
    this.descriptions.delete(label);
    this.record(toolCallId, { kind: 'delete', blockId, label });
  }

  recordRename(toolCallId: string, label: string, newLabel: string): void {
    const blockId = this.ids.get(label)!;
    const block = this.blocks.get(label)!;
    this.blocks.delete(label);
    this.blocks.set(newLabel, { ...block, label: newLabel });
    for (const map of [this.values, this.ids, this.descriptions] as Map<string, unknown>[]) {
      if (map.has(label)) map.set(newLabel, map.get(label));
      map.delete(label);
    }
    this.record(toolCallId, { kind: 'rename', blockId, label, newLabel });
  }

  recordDescribe(toolCallId: string, label: string, description: string): void {
    this.descriptions.set(label, description);
    this.record(toolCallId, { kind: 'describe', blockId: this.ids.get(label)!, label, description });
  }

  private record(toolCallId: string, operation: BlockChangeOperation): void {
    this.changed.add(operation.blockId);
    this.changes.push({ id: randomUUID(), toolCallId, operation });
  }

  memoryEdits(): MemoryEdit[] {
    // Only edits of blocks the step created or renamed need the id; the others keep naming their block by label.
    return this.edits.map(({ blockId, ...edit }) => (blockId !== undefined && this.changed.has(blockId) ? { ...edit, blockId } : edit));
  }

  blockChanges(): BlockChange[] {
    return [...this.changes];
  }
}
