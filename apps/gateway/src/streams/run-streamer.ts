import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { derivedId, type MessageType } from '@lrs/contracts';
import { RunStreamProjector, type StreamChunk } from '@lrs/domain-run';
import { RunEventStore } from '@lrs/jetstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';

export interface StreamOptions {
  /** Resume after this seq_id (0 = from the start). */
  startingAfter: number;
  includePings: boolean;
  include: MessageType[] | null;
}

/**
 * Serves a run as Server-Sent Events in Letta's framing (un-named `data:` events, `event: error`
 * for failures, a literal `data: [DONE]`). The chunks are derived from the run's events, read
 * from JetStream from the first one and then followed live, so any replica can serve any run,
 * running or finished, from any seq_id. A client that disconnects only stops its own stream;
 * the run goes on.
 */
@Injectable()
export class RunStreamer {
  private readonly logger = new Logger(RunStreamer.name);

  constructor(
    private readonly events: RunEventStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async stream(runId: string, request: Request, response: Response, options: StreamOptions): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    const projector = new RunStreamProjector(runId, options.include, derivedId('ping', runId));
    const follow = await this.events.follow(runId);
    let open = true;
    const stop = () => {
      if (!open) return;
      open = false;
      clearInterval(keepAlive);
      void follow.close();
    };
    request.on('close', stop);
    const keepAlive = setInterval(() => {
      if (options.includePings && open) response.write(`data: ${JSON.stringify(projector.keepAlive(new Date()))}\n\n`);
    }, this.settings.streamPingIntervalMs);
    try {
      for await (const { event } of follow.events) {
        for (const chunk of projector.chunksFor(event)) if (open) response.write(frame(chunk, options));
        if (projector.done || !open) break;
      }
    } catch (error) {
      if (open) this.logger.warn(`stream of ${runId} ended early: ${String(error)}`);
    } finally {
      stop();
      response.end();
    }
  }
}

function frame(chunk: StreamChunk, options: StreamOptions): string {
  if (chunk.kind === 'done') return 'data: [DONE]\n\n';
  if (chunk.seqId <= options.startingAfter) return '';
  if (chunk.kind === 'error') return `event: error\ndata: ${JSON.stringify(chunk.payload)}\n\n`;
  if (chunk.payload.message_type === 'ping' && !options.includePings) return '';
  return `data: ${JSON.stringify(chunk.payload)}\n\n`;
}
