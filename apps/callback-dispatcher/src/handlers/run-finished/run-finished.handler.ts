import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CONSUMERS, type AnyRunEvent, type RunEvent } from '@lrs/contracts';
import { CONSUMER_POLICIES, ConcurrencyConflict, JetStreamLifecycle, RetryLater, RunEventStore, type HandlerContext } from '@lrs/jetstream';
import { ProjectionNotifier, RunQueries, toRunView, type RunRow } from '@lrs/read-model';
import { classifyAttempt, deliverWebhook, retryDelayMs } from '@lrs/webhook-delivery';
import { DISPATCHER_SETTINGS, type DispatcherSettings } from '../../config/env';
import { buildCallbackPayload } from './callback-payload';

const ALL_MESSAGES = 100_000;

/**
 * Delivers a finished run's callback. Attempts are numbered from the run's own log (the last
 * CallbackAttempted), not from JetStream's delivery count, so a crash or redelivery never loses
 * or double-counts one. Each attempt is bounded by the timeout and runs beside many others, so a
 * receiver that hangs or fails only ever delays its own run's callback.
 */
@Injectable()
export class RunFinishedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunFinishedHandler.name);

  constructor(
    private readonly jetStream: JetStreamLifecycle,
    private readonly events: RunEventStore,
    private readonly runs: RunQueries,
    private readonly projection: ProjectionNotifier,
    @Inject(DISPATCHER_SETTINGS) private readonly settings: DispatcherSettings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jetStream.startConsumer({
      consumer: CONSUMERS.callbackDispatcher,
      eventTypes: ['RunFinished'],
      concurrency: this.settings.concurrency,
      maxDeliver: CONSUMER_POLICIES.callbackDispatcher.maxDeliver,
      handler: (event, context) => this.handle(event, context),
    });
  }

  async handle(event: AnyRunEvent, _context: HandlerContext): Promise<void> {
    if (event.type !== 'RunFinished') return;
    // The run's log says which attempt this is (and whether the run was deleted meanwhile).
    const latest = await this.events.latest(event.runId);
    if (!latest || latest.event.type === 'RunDeleted') return;
    const run = await this.projectedRun(event);
    if (!run.callback_url) return;

    const previous = latest.event.type === 'CallbackAttempted' ? latest.event.data : null;
    if (previous?.final) return;
    const attempt = (previous?.attempt ?? 0) + 1;

    const view = toRunView(run);
    const [messages, usage] = await Promise.all([
      this.runs.messages(view, { limit: ALL_MESSAGES, order: 'asc' }),
      this.runs.usageStatistics(run.id),
    ]);
    const sentAt = new Date();
    const result = await deliverWebhook({
      url: run.callback_url,
      body: JSON.stringify(buildCallbackPayload(view, messages, usage, sentAt)),
      webhookId: run.id,
      timeoutMs: this.settings.timeoutMs,
      allowPrivateNetworks: this.settings.allowPrivateNetworks,
      signingSecret: this.settings.signingSecret,
    });
    const outcome = classifyAttempt(result);
    const final = outcome !== 'retryable' || attempt >= this.settings.maxAttempts;
    const error = result.error === null ? null : `Failed to dispatch callback for run ${run.id} to ${run.callback_url}: ${result.error}`;
    try {
      await this.events.appendAfter(latest, [
        { type: 'CallbackAttempted', data: { attempt, sentAt: sentAt.toISOString(), statusCode: result.statusCode, error, final } },
      ]);
    } catch (appendError) {
      // Another delivery of this event recorded the attempt first; it owns the retry schedule.
      if (appendError instanceof ConcurrencyConflict) return;
      throw appendError;
    }
    if (!final) {
      const delay = retryDelayMs(attempt, { baseMs: this.settings.retryBaseMs, capMs: this.settings.retryCapMs });
      this.logger.warn(`callback for ${run.id} attempt ${attempt} ${result.statusCode ?? result.error}; retrying in ${delay} ms`);
      throw new RetryLater(delay, `callback attempt ${attempt} not delivered`);
    }
  }

  /** The run as projected up to its RunFinished, so the payload has every message and the final status. */
  private async projectedRun(event: RunEvent<'RunFinished'>): Promise<RunRow> {
    const run = await this.projection.until(
      event.runId,
      event.seq,
      () => this.runs.rowAtVersion(event.organizationId, event.runId, event.seq),
      this.settings.projectionWaitMs,
    );
    if (!run) throw new RetryLater(250, `read model has not caught up with ${event.runId}`);
    return run;
  }
}
