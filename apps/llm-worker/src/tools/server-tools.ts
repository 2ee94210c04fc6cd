import { Inject, Injectable } from '@nestjs/common';
import { truncateReturnValue } from '@lrs/tool-sandbox';
import type { ToolCall } from '@lrs/contracts';
import type { ToolOutcome } from '../step-messages';
import { ToolContext } from './tool-context';
import { TOOL_EXECUTORS, type ToolExecutor } from './tool-executor';
import { failure } from './tool-failure';

export { ToolContext } from './tool-context';

/**
 * Runs an agent's tool calls: finds the tool in the agent's catalog (its base and custom tools),
 * hands it to the executor of its kind, and bounds what comes back by the tool's
 * `return_char_limit`. A tool the agent does not have, bad arguments, or a tool that fails become
 * an error result the model sees on its next step, never a crashed run.
 */
@Injectable()
export class ServerTools {
  constructor(@Inject(TOOL_EXECUTORS) private readonly executors: readonly ToolExecutor[]) {}

  async execute(call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
    const args = parseArguments(call.arguments);
    if (args === null) return failure(call, `Error: arguments for ${call.name} are not a JSON object: ${call.arguments}`);
    const tool = context.tools.get(call.name);
    const executor = tool && this.executors.find((candidate) => candidate.runs(tool));
    if (!tool || !executor) return failure(call, `Error: tool '${call.name}' is not available to this agent`);
    const outcome = await executor.execute(call, args, tool, context);
    // Cut with Letta's note, as the sandbox cuts a return value (for the tools that do not run there).
    return { ...outcome, output: truncateReturnValue(outcome.output, tool.returnCharLimit) };
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
