import { LettaOperation } from '../http/api-docs';
import { Body, Controller, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IsBoolean, IsInt, IsNumber, IsOptional, IsString, Max, Min } from 'class-validator';
import { RunQueries } from '@lrs/read-model';
import { Inject } from '@nestjs/common';
import { AgentIdPipe, RunIdPipe } from '../http/letta-id.pipe';
import { IdempotencyKey } from '../http/idempotency-key';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { LettaStreamingRequestDto } from '../messages/dto/letta-request.dto';
import { RunStreamer } from './run-streamer';
import { LIMITS } from '../http/limits';
import { callerOrganization } from '../auth/caller';

export class RetrieveStreamDto {
  @IsOptional() @IsInt() @Min(0) @Max(LIMITS.streamPosition) starting_after?: number;
  @IsOptional() @IsBoolean() include_pings?: boolean;
  /** Also forward the model's token deltas while the run streams (as the send routes' stream_tokens). */
  @IsOptional() @IsBoolean() stream_tokens?: boolean;
  @IsOptional() @IsNumber() poll_interval?: number;
  @IsOptional() @IsInt() batch_size?: number;
  @IsOptional() @IsString() run_id?: string;
  @IsOptional() @IsString() otid?: string;
  @IsOptional() @IsString() agent_id?: string;
}

@Controller('v1')
export class StreamsController {
  constructor(
    private readonly streamer: RunStreamer,
    private readonly runs: RunQueries,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  /** POST /v1/agents/{id}/messages/stream: start a run and stream it. */
  @LettaOperation('create_agent_message_stream', 'Send a message and stream the run', 'stream')
  @Post('agents/:agent_id/messages/stream')
  async stream(
    @Param('agent_id', AgentIdPipe) agentId: string,
    @Body() body: LettaStreamingRequestDto,
    @IdempotencyKey() idempotencyKey: string | null,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await this.streamer.startAndStream(agentId, body, { runType: 'send_message_streaming', background: body.background ?? false, idempotencyKey }, request, response);
  }

  /** POST /v1/runs/{id}/stream: replay a run's stream after `starting_after`, then follow it live. */
  @LettaOperation('retrieve_stream', "Resume a run's stream after a seq_id", 'stream')
  @Post('runs/:run_id/stream')
  async resume(
    @Param('run_id', RunIdPipe) runId: string,
    @Body() body: RetrieveStreamDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const run = await this.runs.get(callerOrganization(), runId);
    if (!run) throw new NotFoundException({ detail: `Run with ID ${runId} not found` });
    await this.streamer.stream(runId, request, response, {
      startingAfter: body?.starting_after ?? 0,
      includePings: body?.include_pings ?? true,
      include: run.request_config.include_return_message_types,
      streamTokens: body?.stream_tokens ?? false,
    });
  }
}
