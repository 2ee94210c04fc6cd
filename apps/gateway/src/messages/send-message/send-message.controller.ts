import { LettaOperation } from '../../http/api-docs';
import { Body, Controller, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AgentIdPipe } from '../../http/letta-id.pipe';
import { IdempotencyKey } from '../../http/idempotency-key';
import { LettaStreamingRequestDto } from '../dto/letta-request.dto';
import { RunStreamer } from '../../streams/run-streamer';
import { SendMessageUseCase } from './send-message.use-case';

@Controller('v1/agents/:agent_id/messages')
export class SendMessageController {
  constructor(
    private readonly useCase: SendMessageUseCase,
    private readonly streamer: RunStreamer,
  ) {}

  /** Letta's send_message: a LettaResponse, or with `streaming: true` the run's SSE stream. */
  @LettaOperation('send_message', "Send a message and wait for the agent's response (or stream it with streaming=true)", 'LettaResponse')
  @Post()
  async send(
    @Param('agent_id', AgentIdPipe) agentId: string,
    @Body() body: LettaStreamingRequestDto,
    @IdempotencyKey() idempotencyKey: string | null,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    if (body.streaming) {
      await this.streamer.startAndStream(agentId, body, { runType: 'send_message', background: body.background ?? false, idempotencyKey }, request, response);
      return;
    }
    const result = await this.useCase.execute(agentId, body, null, idempotencyKey);
    // A retry would start a second run unless the messages carry otids; the outcome is at GET /v1/runs.
    response.status(200).setHeader('x-should-retry', 'false');
    response.json(result);
  }
}
