import { HttpException, Inject, Injectable, UnprocessableEntityException } from '@nestjs/common';
import type { LettaMessage, LettaStopReason, LettaUsageStatistics } from '@lrs/contracts';
import { filterMessageTypes, foldRun, isTerminalEvent, isTerminalStatus } from '@lrs/domain-run';
import { RunEventStore, RunEventWatcher, createdStreamSeqOf } from '@lrs/jetstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import type { LettaStreamingRequestDto } from '../dto/letta-request.dto';
import { RunCreator } from '../run-creator';

export interface LettaResponse {
  messages: LettaMessage[];
  stop_reason: LettaStopReason;
  usage: LettaUsageStatistics;
  logprobs: null;
  turns: null;
}

/** Letta's HTTP status for a model failure that ended a synchronous run (Letta's own mapping of provider errors). */
const STATUS_BY_MODEL_ERROR: Record<string, number> = {
  llm_timeout: 504,
  llm_rate_limit: 429,
  llm_insufficient_credits: 402,
  llm_authentication: 401,
  llm_bad_request: 400,
};

/**
 * POST /v1/agents/{agent_id}/messages without streaming: the same durable run as the async route,
 * answered when it ends with the messages the agent produced, the stop reason and the usage.
 * If the client goes away, the run still finishes.
 */
@Injectable()
export class SendMessageUseCase {
  constructor(
    private readonly creator: RunCreator,
    private readonly watcher: RunEventWatcher,
    private readonly events: RunEventStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async execute(agentId: string, body: LettaStreamingRequestDto, conversationId: string | null = null, idempotencyKey: string | null = null): Promise<LettaResponse> {
    if (body.stream_tokens || body.include_pings === false || body.background) {
      throw new UnprocessableEntityException({ detail: 'Streaming options set without streaming enabled. Set streaming=true or remove stream_tokens, include_pings and background.' });
    }
    const prepared = await this.creator.prepare(agentId, body, {
      runType: conversationId ? 'send_conversation_message' : 'send_message',
      background: false,
      conversationId,
      idempotencyKey,
    });
    // Listen before the run exists (or before looking at it again), so its end cannot slip by unseen.
    const finished = this.watcher.next(prepared.runId, (event) => event.type === 'RunFinished', this.settings.syncRunTimeoutMs);
    let run;
    try {
      run = await this.creator.commit(prepared);
    } catch (error) {
      finished.cancel();
      throw error;
    }
    // A retried request may find its run already over; otherwise wait for its end. The answer is
    // the run as its own events tell it: the read model is not involved.
    let latest = await this.events.latest(run.id);
    if (latest && isTerminalEvent(latest.event)) finished.cancel();
    else {
      const end = await finished.event;
      latest = end ? await this.events.latest(run.id) : null;
    }
    const folded = latest ? foldRun(await this.events.readRun(run.id, latest, createdStreamSeqOf(latest))) : null;
    if (!folded || !isTerminalStatus(folded.view.status)) {
      throw new HttpException({ detail: `Run ${run.id} is still in progress; follow it with GET /v1/runs/${run.id}.` }, 504);
    }
    const view = folded.view;
    if (view.status === 'failed' && view.stop_reason === 'llm_api_error') throw modelFailure(String(view.metadata.error ?? 'model error'));

    // What the agent produced: every message of a step (the request's own input belongs to none).
    const produced = filterMessageTypes(folded.messages, view.request_config.include_return_message_types).filter((message) => message.step_id !== null);
    return {
      messages: produced,
      stop_reason: { message_type: 'stop_reason', stop_reason: view.stop_reason ?? 'end_turn' },
      usage: folded.usage,
      logprobs: null,
      turns: null,
    };
  }
}

function modelFailure(error: string): HttpException {
  const separator = error.indexOf(': ');
  const type = separator > 0 ? error.slice(0, separator) : 'llm_error';
  const message = separator > 0 ? error.slice(separator + 2) : error;
  return new HttpException({ error: { type, message, detail: message } }, STATUS_BY_MODEL_ERROR[type] ?? 500);
}
