import { Injectable } from '@nestjs/common';
import type { ToolCall } from '@lrs/contracts';
import type { ToolOutcome } from '../step-messages';

/**
 * Runs the tools the server owns. A tool the agent does not have, or arguments that are not a
 * JSON object, become an error result the model sees on its next step: a bad tool call is part
 * of the conversation, never a crashed run.
 */
@Injectable()
export class ServerTools {
  async execute(call: ToolCall): Promise<ToolOutcome> {
    const args = parseArguments(call.arguments);
    if (args === null) return { call, status: 'error', output: `Error: arguments for ${call.name} are not a JSON object: ${call.arguments}` };
    return { call, status: 'error', output: `Error: tool '${call.name}' is not available to this agent` };
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
