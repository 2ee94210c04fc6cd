import type { ToolCall } from '@lrs/contracts';
import type { ToolOutcome } from '../step-messages';

/** A tool call's error result: what the model reads on its next step instead of a crashed run. */
export function failure(call: ToolCall, output: string): ToolOutcome {
  return { call, status: 'error', output };
}
