import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { derivedId, messageEnvelope, type MessageType } from '@lrs/contracts';
import { RunStreamProjector, type StreamChunk } from '@lrs/domain-run';
import { RunEventStore, TokenDeltaBus, type TokenDelta } from '@lrs/jetstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { RunCreator, type RunOptions } from '../messages/run-creator';
import type { LettaStreamingRequestDto } from '../messages/dto/letta-request.dto';

export interface StreamOptions {
  /** Resume after this seq_id (0 = from the start). */
  startingAfter: number;
  includePings: boolean;
  include: MessageType[] | null;
  /** Forward the model's token deltas as they arrive (assistant text). */
  streamTokens?: boolean;
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
    private readonly deltas: TokenDeltaBus,
    private readonly creator: RunCreator,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  private includes(options: StreamOptions, type: MessageType): boolean {
    return !options.include?.length || options.include.includes(type);
  }

  /** Starts a run for a send request and streams it to the client (the stream and streaming:true routes). */
  async startAndStream(agentId: string, body: LettaStreamingRequestDto, run: RunOptions, request: Request, response: Response): Promise<void> {
    const prepared = await this.creator.prepare(agentId, body, run);
    // The run is created (and may start at once) only once the stream listens, so no token is missed.
    await this.stream(
      prepared.runId,
      request,
      response,
      {
        startingAfter: 0,
        includePings: body.include_pings ?? true,
        include: body.include_return_message_types ?? null,
        streamTokens: body.stream_tokens ?? false,
      },
      () => this.creator.commit(prepared),
    );
  }

  /** `start`, when given, creates the run after the stream has begun listening and before it answers. */
  async stream(runId: string, request: Request, response: Response, options: StreamOptions, start?: () => Promise<unknown>): Promise<void> {
    const projector = new RunStreamProjector(runId, options.include, derivedId('ping', runId));
    let open = true;
    const streamed = (['assistant_message', 'reasoning_message'] as const).filter((type) => this.includes(options, type));
    const tokens = options.streamTokens && streamed.length > 0 ? new TokenForwarder(runId, streamed) : null;
    const unsubscribe = tokens
      ? this.deltas.subscribe(runId, (delta) => {
          // Deltas are held back (empty text) until the stream has begun with its ping.
          const text = tokens.delta(delta);
          if (open && text) response.write(text);
        })
      : () => undefined;
    let follow: Awaited<ReturnType<RunEventStore['follow']>> | null = null;
    try {
      follow = await this.events.follow(runId);
      await start?.();
    } catch (error) {
      // Nothing was written yet: this becomes an ordinary HTTP error.
      unsubscribe();
      await follow?.close();
      throw error;
    }
    const following = follow;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    const stop = () => {
      if (!open) return;
      open = false;
      clearInterval(keepAlive);
      unsubscribe();
      void following.close();
    };
    request.on('close', stop);
    const keepAlive = setInterval(() => {
      if (options.includePings && open) response.write(`data: ${JSON.stringify(projector.keepAlive(new Date()))}\n\n`);
    }, this.settings.streamPingIntervalMs);
    try {
      for await (const { event } of following.events) {
        for (const chunk of projector.chunksFor(event)) {
          if (!open) break;
          // Nothing may follow stop_reason and usage but [DONE], not even a keep-alive. A GET after
          // [DONE] shows the finished run even if the projector lags: run reads top up from the log.
          if (chunk.kind === 'done') clearInterval(keepAlive);
          const text = tokens ? tokens.complete(chunk) : null;
          response.write(text ?? frame(chunk, options));
        }
        if (event.type === 'RunCreated' && tokens && open) response.write(tokens.open());
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

/**
 * Token streaming: deltas are forwarded as assistant_message (or reasoning_message) chunks sharing
 * the message's id and otid (no seq_id: they are a live preview). When the step's stored message
 * arrives it is sent only as what the deltas missed, carrying the message's seq_id, so
 * concatenating the chunks of one id always gives the stored text and a resume point is never skipped.
 */
class TokenForwarder {
  private readonly forwarded = new Map<string, string>();
  private pending: string[] = [];
  private ready = false;

  constructor(
    private readonly runId: string,
    private readonly types: readonly ('assistant_message' | 'reasoning_message')[],
  ) {}

  /** The stream's first chunk (the ping) has been written: deltas flow from now on; returns those held back. */
  open(): string {
    this.ready = true;
    const held = this.pending.join('');
    this.pending = [];
    return held;
  }

  delta(delta: TokenDelta): string {
    const type = delta.kind === 'reasoning' ? 'reasoning_message' : 'assistant_message';
    if (!this.types.includes(type)) return '';
    this.forwarded.set(delta.messageId, (this.forwarded.get(delta.messageId) ?? '') + delta.text);
    const envelope = messageEnvelope({
      id: delta.messageId,
      date: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      otid: delta.otid,
      stepId: delta.stepId,
      runId: this.runId,
    });
    const payload =
      type === 'reasoning_message'
        ? { ...envelope, message_type: type, source: 'reasoner_model', reasoning: delta.text, signature: null }
        : { ...envelope, message_type: type, content: delta.text };
    const text = `data: ${JSON.stringify(payload)}\n\n`;
    if (this.ready) return text;
    this.pending.push(text);
    return '';
  }

  /** The frame for a stored chunk whose text was already streamed, or null to send it as usual. */
  complete(chunk: StreamChunk): string | null {
    if (chunk.kind !== 'data') return null;
    const message = chunk.payload;
    const field = message.message_type === 'assistant_message' ? 'content' : message.message_type === 'reasoning_message' ? 'reasoning' : null;
    if (field === null || !('id' in message)) return null;
    const streamed = this.forwarded.get(message.id);
    const full: unknown = (message as unknown as Record<string, unknown>)[field];
    if (streamed === undefined || typeof full !== 'string' || !full.startsWith(streamed)) return null;
    return `data: ${JSON.stringify({ ...message, [field]: full.slice(streamed.length) })}\n\n`;
  }
}

function frame(chunk: StreamChunk, options: StreamOptions): string {
  if (chunk.kind === 'done') return 'data: [DONE]\n\n';
  if (chunk.seqId <= options.startingAfter) return '';
  if (chunk.kind === 'error') return `event: error\ndata: ${JSON.stringify(chunk.payload)}\n\n`;
  if (chunk.payload.message_type === 'ping' && !options.includePings) return '';
  return `data: ${JSON.stringify(chunk.payload)}\n\n`;
}
