import { LettaOperation } from '../../http/api-docs';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { AgentIdPipe } from '../../http/letta-id.pipe';
import { IdempotencyKey } from '../../http/idempotency-key';
import { LettaAsyncRequestDto } from '../dto/letta-request.dto';
import { SendMessageAsyncUseCase } from './send-message-async.use-case';

@Controller('v1/agents/:agent_id/messages')
export class SendMessageAsyncController {
  constructor(private readonly useCase: SendMessageAsyncUseCase) {}

  @LettaOperation('create_agent_message_async', 'Send a message and get the Run back at once', 'Run')
  @Post('async')
  @HttpCode(200)
  createAsync(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: LettaAsyncRequestDto, @IdempotencyKey() idempotencyKey: string | null) {
    return this.useCase.execute(agentId, body, idempotencyKey);
  }
}
