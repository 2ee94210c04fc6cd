import { Injectable } from '@nestjs/common';
import type { ToolCall } from '@lrs/contracts';
import { MESSAGE_SEARCH_MAX_QUERY_CHARS, MessageQueries, storableText, type ToolSnapshot } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';
import { ArchivalTools } from './archival-tools';
import { editBlock, LETTA_MEMORY_TOOL_NAMES, runLettaMemoryTool } from './letta-memory-tools';
import type { ToolContext } from './tool-context';
import type { ToolExecutor } from './tool-executor';
import { failure } from './tool-failure';

const MESSAGE_TYPES_BY_ROLE: Record<string, string> = { user: 'user_message', assistant: 'assistant_message', tool: 'tool_return_message' };

/** The tool types this executor owns: the memory tools, conversation and archival search. */
const MEMORY_TOOL_TYPES = new Set(['letta_core', 'letta_memory_core']);

/**
 * The server's memory tools. Memory edits are collected in the step's context, committed with the
 * step's rows (each applied to the block as it is then, once by its id) and carried by its
 * StepCompleted event.
 */
@Injectable()
export class MemoryToolExecutor implements ToolExecutor {
  constructor(
    private readonly messages: MessageQueries,
    private readonly archival: ArchivalTools,
  ) {}

  runs(tool: ToolSnapshot): boolean {
    return tool.organizationId === null && MEMORY_TOOL_TYPES.has(tool.toolType);
  }

  async execute(call: ToolCall, args: Record<string, unknown>, _tool: ToolSnapshot, context: ToolContext): Promise<ToolOutcome> {
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
      case 'conversation_search':
        return this.conversationSearch(call, context, args);
      default:
        return failure(call, `Error: tool '${call.name}' is not available to this agent`);
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

