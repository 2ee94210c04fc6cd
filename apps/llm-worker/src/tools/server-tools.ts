import { Injectable } from '@nestjs/common';
import { baseTool, type ToolCall } from '@lrs/contracts';
import { memoryInsert, memoryReplace, type EditableBlock, type EditResult } from '@lrs/domain-run';
import { MessageQueries, storableText, type AgentSnapshot } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';

/** What a step's tools act on: the agent's blocks as of this step, and the edits made so far. */
export class ToolContext {
  readonly edits = new Map<string, string>();

  constructor(
    readonly agentId: string,
    private readonly blocks: Map<string, EditableBlock>,
    /** Tools this agent may run on the server (its attached base tools). */
    readonly serverToolNames: ReadonlySet<string>,
  ) {}

  /** The agent's blocks and tools as stored now, with no edits yet. */
  static of(agent: AgentSnapshot): ToolContext {
    return new ToolContext(
      agent.id,
      new Map(agent.blocks.map((b) => [b.label, { label: b.label, value: b.value, limit: b.charLimit, readOnly: b.readOnly }])),
      new Set(agent.toolNames),
    );
  }

  block(label: string): EditableBlock | undefined {
    const block = this.blocks.get(label);
    const edited = this.edits.get(label);
    return block && edited !== undefined ? { ...block, value: edited } : block;
  }

  memoryEdits(): { label: string; value: string }[] {
    return [...this.edits].map(([label, value]) => ({ label, value }));
  }
}

const MESSAGE_TYPES_BY_ROLE: Record<string, string> = { user: 'user_message', assistant: 'assistant_message', tool: 'tool_return_message' };

/**
 * Runs the tools the server owns. Memory edits are collected in the step's context and become
 * part of its StepCompleted event, so an edit takes effect exactly when the step is recorded,
 * and re-running a step after a crash cannot apply it twice. A tool the agent does not have, or
 * bad arguments, become an error result the model sees on its next step, never a crashed run.
 */
@Injectable()
export class ServerTools {
  constructor(private readonly messages: MessageQueries) {}

  async execute(call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
    const args = parseArguments(call.arguments);
    if (args === null) return failure(call, `Error: arguments for ${call.name} are not a JSON object: ${call.arguments}`);
    if (!context.serverToolNames.has(call.name) || !baseTool(call.name)) {
      return failure(call, `Error: tool '${call.name}' is not available to this agent`);
    }
    switch (call.name) {
      case 'memory_insert': {
        const label = String(args.label ?? '');
        const insertLine = args.insert_line === undefined ? -1 : Number(args.insert_line);
        return this.recordEdit(call, context, label, memoryInsert(context.block(label), label, String(args.new_str ?? args.new_string ?? ''), insertLine));
      }
      case 'memory_replace': {
        const label = String(args.label ?? '');
        const oldStr = String(args.old_str ?? args.old_string ?? '');
        const newStr = String(args.new_str ?? args.new_string ?? '');
        return this.recordEdit(call, context, label, memoryReplace(context.block(label), label, oldStr, newStr));
      }
      default:
        return this.conversationSearch(call, context, args);
    }
  }

  private recordEdit(call: ToolCall, context: ToolContext, label: string, result: EditResult): ToolOutcome {
    if (!result.ok) return failure(call, result.error);
    context.edits.set(label, result.value);
    return { call, status: 'success', output: result.message };
  }

  private async conversationSearch(call: ToolCall, context: ToolContext, args: Record<string, unknown>): Promise<ToolOutcome> {
    if (typeof args.query !== 'string') return failure(call, 'Error: conversation_search needs a string query');
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

function failure(call: ToolCall, output: string): ToolOutcome {
  return { call, status: 'error', output };
}

export function parseArguments(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text.trim() === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
