import { BadRequestException, UnprocessableEntityException, type PipeTransform } from '@nestjs/common';
import { isLettaId, type IdPrefix } from '@lrs/contracts';

const EXAMPLE_UUID = '123e4567-e89b-42d3-a456-426614174000';

/**
 * Path ids must be `<prefix>-<uuid4>`. Letta rejects a malformed agent id with 422 and a
 * malformed run id with 400 INVALID_ARGUMENT; both are kept.
 */
export class LettaIdPipe implements PipeTransform<string, string> {
  constructor(
    private readonly prefix: IdPrefix,
    private readonly param: string,
  ) {}

  transform(value: string): string {
    if (isLettaId(this.prefix, value)) return value;
    if (this.prefix === 'run') {
      throw new BadRequestException({ detail: `INVALID_ARGUMENT: Invalid run ID format: ${value}. Expected format: 'run-<uuid4>'` });
    }
    throw new UnprocessableEntityException({
      detail: `${this.param}: String should match pattern '${this.prefix}-{uuid4}' (got '${value}')`,
      examples: [`${this.prefix}-${EXAMPLE_UUID}`],
    });
  }
}

export const AgentIdPipe = new LettaIdPipe('agent', 'agent_id');
export const RunIdPipe = new LettaIdPipe('run', 'run_id');
export const BlockIdPipe = new LettaIdPipe('block', 'block_id');
export const StepIdPipe = new LettaIdPipe('step', 'step_id');
export const ArchiveIdPipe = new LettaIdPipe('archive', 'archive_id');
export const PassageIdPipe = new LettaIdPipe('passage', 'memory_id');
export const MessageIdPipe = new LettaIdPipe('message', 'message_id');
export const ToolIdPipe = new LettaIdPipe('tool', 'tool_id');
