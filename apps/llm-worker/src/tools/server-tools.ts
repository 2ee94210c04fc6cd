import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { baseTool, newId, type BlockChange, type BlockChangeOperation, type BlockEditOperation, type MemoryEdit, type ToolCall } from '@lrs/contracts';
import type { EditableBlock } from '@lrs/domain-run';
import { MESSAGE_SEARCH_MAX_QUERY_CHARS, MessageQueries, storableText, type AgentSnapshot } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';
import type { StepPassage } from '../archival/archival-memory';
import { ArchivalTools } from './archival-tools';
import { editBlock, LETTA_MEMORY_TOOL_NAMES, runLettaMemoryTool } from './letta-memory-tools';
import { failure } from './tool-failure';

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
    /** Tools this agent may run on the server (its attached base tools). */
    readonly serverToolNames: ReadonlySet<string>,
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

  /** The agent's blocks and tools as stored now, with no edits yet. */
  static of(agent: AgentSnapshot, options: { blockChanges?: boolean } = {}): ToolContext {
    return new ToolContext(
      agent,
      new Map(agent.blocks.map((b) => [b.label, { label: b.label, value: b.value, limit: b.charLimit, readOnly: b.readOnly }])),
      new Set(agent.toolNames),
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

const MESSAGE_TYPES_BY_ROLE: Record<string, string> = { user: 'user_message', assistant: 'assistant_message', tool: 'tool_return_message' };

/**
 * Runs the tools the server owns. Memory edits are collected in the step's context, committed
 * with the step's rows (each applied to the block as it is then, once by its id) and carried by
 * its StepCompleted event. A tool the agent does not have, or
 * bad arguments, become an error result the model sees on its next step, never a crashed run.
 */
@Injectable()
export class ServerTools {
  constructor(
    private readonly messages: MessageQueries,
    private readonly archival: ArchivalTools,
  ) {}

  async execute(call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
    const args = parseArguments(call.arguments);
    if (args === null) return failure(call, `Error: arguments for ${call.name} are not a JSON object: ${call.arguments}`);
    if (!context.serverToolNames.has(call.name) || !baseTool(call.name)) {
      return failure(call, `Error: tool '${call.name}' is not available to this agent`);
    }
    if (LETTA_MEMORY_TOOL_NAMES.has(call.name)) return runLettaMemoryTool(call, context, args);
    switch (call.name) {
      case 'memory_insert': {
        const insertLine = args.insert_line === undefined ? -1 : Number(args.insert_line);
        return editBlock(call, context, String(args.label ?? ''), { kind: 'insert', newStr: storableText(String(args.new_str ?? args.new_string ?? '')), insertLine });
      }
      case 'memory_replace': {
        const oldStr = storableText(String(args.old_str ?? args.old_string ?? ''));
        const newStr = storableText(String(args.new_str ?? args.new_string ?? ''));
        return editBlock(call, context, String(args.label ?? ''), { kind: 'replace', oldStr, newStr });
      }
      case 'archival_memory_insert':
        return this.archival.insert(call, context, args);
      case 'archival_memory_search':
        return this.archival.search(call, context, args);
      default:
        return this.conversationSearch(call, context, args);
    }
  }

  private async conversationSearch(call: ToolCall, context: ToolContext, args: Record<string, unknown>): Promise<ToolOutcome> {
    if (typeof args.query !== 'string') return failure(call, 'Error: conversation_search needs a string query');
    if (args.query.length > MESSAGE_SEARCH_MAX_QUERY_CHARS) return failure(call, `Error: query is longer than ${MESSAGE_SEARCH_MAX_QUERY_CHARS} characters`);
    const roles = Array.isArray(args.roles) ? args.roles.map(String) : Object.keys(MESSAGE_TYPES_BY_ROLE);
    const limit = Math.min(50, Math.max(1, Number.isInteger(args.limit) ? (args.limit as number) : 5));
    // The model's arguments are checked here, so a bad one is an error result it sees, never a failed query.
    const dates: Record<'start_date' | 'end_date', string | null> = { start_date: null, end_date: null };
    for (const name of ['start_date', 'end_date'] as const) {
      const value = args[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return failure(call, `Error: ${name} must be an ISO 8601 date, like 2025-01-31`);
      dates[name] = new Date(value).toISOString();
    }
    const found = await this.messages.searchMessages(context.agentId, {
      query: storableText(args.query),
      messageTypes: roles.map((role) => MESSAGE_TYPES_BY_ROLE[role]).filter(Boolean),
      limit,
      startDate: dates.start_date,
      endDate: dates.end_date,
    });
    const results = found.map((message) => ({
      role: message.message_type.replace('_message', '').replace('tool_return', 'tool'),
      date: message.date,
      content: 'content' in message ? message.content : 'tool_return' in message ? message.tool_return : null,
    }));
    return { call, status: 'success', output: JSON.stringify(results) };
  }
}


export function parseArguments(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text.trim() === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
