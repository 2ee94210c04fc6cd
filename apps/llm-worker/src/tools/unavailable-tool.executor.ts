import { Injectable } from '@nestjs/common';
import type { ToolCall } from '@lrs/contracts';
import { unavailableReason, type ToolSnapshot } from '@lrs/read-model';
import type { ToolOutcome } from '../step-messages';
import type { ToolExecutor } from './tool-executor';
import { failure } from './tool-failure';

/**
 * Tools an agent carries that cannot run here (imported from an agent file: a Letta tool this
 * server lacks, a custom tool the sandbox cannot take): each answers why, so the model and
 * whoever reads the run see the reason instead of a tool that silently vanished.
 */
@Injectable()
export class UnavailableToolExecutor implements ToolExecutor {
  runs(tool: ToolSnapshot): boolean {
    return unavailableReason(tool) !== null;
  }

  async execute(call: ToolCall, _args: Record<string, unknown>, tool: ToolSnapshot): Promise<ToolOutcome> {
    return failure(call, `Error: tool '${tool.name}' is not available: ${unavailableReason(tool)}`);
  }
}
