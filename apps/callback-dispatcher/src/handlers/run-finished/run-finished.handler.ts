import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CONSUMERS, type AnyRunEvent, type RunEvent } from '@lrs/contracts';
import { filterMessageTypes, foldRun, nextCallbackAttempt, runTraceSpans, runTraceparent, stateOf } from '@lrs/domain-run';
import { RetryLater, RunCommands, RunEventStore, onRunEvents, type HandlerContext } from '@lrs/jetstream';
import { classifyAttempt, deliverWebhook, retryDelayMs } from '@lrs/webhook-delivery';
import { DISPATCHER_SETTINGS, type DispatcherSettings } from '../../config/env';
import { buildCallbackPayload } from './callback-payload';
import { METRICS } from '@lrs/config';
import { SpanKind, recordSpan, tracingOn } from '@lrs/tracing';

/**
 * Delivers a finished run's callback. Attempts are numbered from the run's own log (the last
 * CallbackAttempted), not from JetStream's delivery count, so a crash or redelivery never loses
 * or double-counts one. Each attempt is bounded by the timeout and runs beside many others, so a
 * receiver that hangs or fails only ever delays its own run's callback.
 */
@Controller()
export class RunFinishedHandler {
  private readonly logger = new Logger(RunFinishedHandler.name);

  constructor(
    private readonly events: RunEventStore,
    private readonly commands: RunCommands,
    @Inject(DISPATCHER_SETTINGS) private readonly settings: DispatcherSettings,
  ) {}

  /**
   * The run as one OpenTelemetry span, from its creation to its end, with its status and stop
   * reason (as GET /v1/runs/{id}/trace shows its root): each service's spans cover one event of a
   * run, none the whole of it, and every run's end comes here, so it is recorded here, once.
   */
  private recordRunSpan(finished: RunEvent<'RunFinished'>, created: RunEvent<'RunCreated'>): void {
    const [run] = runTraceSpans([created, finished]);
    const startTimeMs = Date.parse(run.Timestamp);
    recordSpan('run', {
      kind: SpanKind.INTERNAL,
      parent: runTraceparent(created),
      attributes: run.SpanAttributes,
      startTimeMs,
      endTimeMs: startTimeMs + run.Duration / 1_000_000,
      error: run.StatusCode === 'STATUS_CODE_ERROR' ? run.StatusMessage : null,
    });
  }

  @EventPattern(onRunEvents(CONSUMERS.callbackDispatcher, 'RunFinished'))
  async handle(@Payload() event: AnyRunEvent, @Ctx() context: HandlerContext): Promise<void> {
    if (event.type !== 'RunFinished') return;
    // Every run's RunFinished comes here once (redeliveries aside): the one place to count ends.
    if (context.deliveryCount === 1) METRICS.runsFinished.inc({ status: event.data.status, stop_reason: event.data.stopReason });
    // The run's log says which attempt this is (and whether the run was deleted meanwhile). It
    // holds this RunFinished at least: an older answer is a store that has not caught up (StaleRead, retried).
    const [latest, created] = await Promise.all([this.events.latest(event.runId, context.streamSeq), this.events.createdOf(event.runId, event.data.createdStreamSeq)]);
    if (!latest || latest.event.type === 'RunDeleted') return;
    if (context.deliveryCount === 1 && created && tracingOn()) this.recordRunSpan(event, created);
    if (!created?.data.callbackUrl) return;

    const attempt = nextCallbackAttempt(stateOf(latest.event));
    if (attempt === null) return;

    // The payload is the run as its own events tell it, up to its RunFinished: no read model involved.
    const events = await this.events.readRun(event.runId, { event, streamSeq: context.streamSeq }, event.data.createdStreamSeq, created);
    const run = foldRun(events);
    if (!run) throw new RetryLater(1_000, `run ${event.runId} has no RunCreated before its RunFinished`);
    const callbackUrl = created.data.callbackUrl;
    const messages = filterMessageTypes(run.messages, run.view.request_config.include_return_message_types);
    const sentAt = new Date();
    const result = await deliverWebhook({
      url: callbackUrl,
      body: JSON.stringify(buildCallbackPayload(run.view, messages, run.usage, sentAt)),
      webhookId: event.runId,
      timeoutMs: this.settings.timeoutMs,
      allowPrivateNetworks: this.settings.allowPrivateNetworks,
      signingSecret: this.settings.signingSecret,
    });
    const outcome = classifyAttempt(result);
    METRICS.callbackAttempts.inc({ outcome });
    const error = result.error === null ? null : `Failed to dispatch callback for run ${event.runId} to ${callbackUrl}: ${result.error}`;
    // Conditional on the latest event read before the delivery: if another delivery of this event
    // recorded an attempt first, it owns the retry schedule and this result is dropped.
    const recorded = await this.commands.executeAfter(latest, {
      kind: 'callbackResult',
      sentAt: sentAt.toISOString(),
      statusCode: result.statusCode,
      error,
      outcome,
      maxAttempts: this.settings.maxAttempts,
    });
    if (recorded.kind !== 'appended') return;
    const { final } = recorded.events[0].event.data as { final: boolean };
    if (!final) {
      const delay = retryDelayMs(attempt, { baseMs: this.settings.retryBaseMs, capMs: this.settings.retryCapMs });
      this.logger.warn(`callback for ${event.runId} attempt ${attempt} ${result.statusCode ?? result.error}; retrying in ${delay} ms`);
      throw new RetryLater(delay, `callback attempt ${attempt} not delivered`);
    }
  }
}
