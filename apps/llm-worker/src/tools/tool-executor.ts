import type { ToolCall } from '@lrs/contracts';
import type { ToolSnapshot } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';
import type { ToolContext } from './tool-context';

/**
 * Runs one kind of tool: the server's memory tools, custom tools from source in the sandbox,
 * Letta's built-in tools, MCP servers' tools. The step and `agents.tools.run` hand every call to
 * ServerTools, which picks the executor by the tool's catalog entry: a new kind of tool is a new
 * executor, never a new branch in the step.
 */
export interface ToolExecutor {
  /** Whether this executor runs the tool (by its catalog entry: type, name). */
  runs(tool: ToolSnapshot): boolean;
  /** Never throws for the tool's own failures: those are error outcomes the model reads. */
  execute(call: ToolCall, args: Record<string, unknown>, tool: ToolSnapshot, context: ToolContext): Promise<ToolOutcome>;
}

/** The Nest token of the executors ServerTools chooses from, in order. */
export const TOOL_EXECUTORS = Symbol('TOOL_EXECUTORS');
