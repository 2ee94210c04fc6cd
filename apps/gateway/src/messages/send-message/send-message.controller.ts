import { Body, Controller, Header, HttpCode, Param, Post } from '@nestjs/common';
import { AgentIdPipe } from '../../http/letta-id.pipe';
import { LettaStreamingRequestDto } from '../dto/letta-request.dto';
import { SendMessageUseCase } from './send-message.use-case';

@Controller('v1/agents/:agent_id/messages')
export class SendMessageController {
  constructor(private readonly useCase: SendMessageUseCase) {}

  @Post()
  @HttpCode(200)
  // A retry would start a second run; the first one's outcome is available at GET /v1/runs.
  @Header('x-should-retry', 'false')
  send(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: LettaStreamingRequestDto) {
    return this.useCase.execute(agentId, body);
  }
}
