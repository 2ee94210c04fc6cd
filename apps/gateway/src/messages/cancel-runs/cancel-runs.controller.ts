import { LettaOperation } from '../../http/api-docs';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsOptional, Matches } from 'class-validator';
import { LIMITS } from '../../http/limits';
import { idPatternFor } from '@lrs/contracts';
import { AgentIdPipe, RunIdPipe } from '../../http/letta-id.pipe';
import { CancelRunsUseCase } from './cancel-runs.use-case';

export class CancelRunsDto {
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.ids) @Matches(new RegExp(idPatternFor('run')), { each: true, message: "run_ids must match 'run-{uuid4}'" }) run_ids?: string[] | null;
}

@Controller('v1')
export class CancelRunsController {
  constructor(private readonly useCase: CancelRunsUseCase) {}

  @LettaOperation('cancel_agent_run', "Cancel an agent's active runs", 'CancelResult')
  @Post('agents/:agent_id/messages/cancel')
  @HttpCode(200)
  cancelForAgent(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: CancelRunsDto) {
    return this.useCase.cancelForAgent(agentId, body?.run_ids ?? undefined);
  }

  @LettaOperation('cancel_run', 'Cancel a run', 'CancelResult')
  @Post('runs/:run_id/cancel')
  @HttpCode(200)
  async cancelRun(@Param('run_id', RunIdPipe) runId: string) {
    return { [runId]: await this.useCase.cancelOne(runId) };
  }
}
