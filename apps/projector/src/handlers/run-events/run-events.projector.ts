import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CONSUMERS, type AnyRunEvent } from '@lrs/contracts';
import { RetryLater, onRunEvents, type HandlerContext } from '@lrs/jetstream';
import { RunProjection } from '@lrs/read-model';
import { PROJECTOR_SETTINGS, type ProjectorSettings } from '../../config/env';
import { ProjectionBatcher } from './projection-batcher';

const GAP_RETRY_BASE_MS = 50;
const GAP_RETRY_CAP_MS = 5_000;

/**
 * Feeds every run event into the Postgres read model; acks only after the batch committed. An
 * event that still cannot be applied after the consumer's deliveries (about 8 minutes) goes to the
 * DLQ with its reason: the run itself is unaffected (nothing on its path reads the read model),
 * and `npm run dlq -- redrive` or `npm run read-model:rebuild` brings its view up to date.
 */
@Controller()
export class RunEventsProjector {
  private readonly batcher: ProjectionBatcher;

  constructor(
    projection: RunProjection,
    @Inject(PROJECTOR_SETTINGS) settings: ProjectorSettings,
  ) {
    this.batcher = new ProjectionBatcher((batch) => projection.apply(batch), settings.batchSize, settings.batchLingerMs);
  }

  @EventPattern(onRunEvents(CONSUMERS.projector))
  async handle(@Payload() event: AnyRunEvent, @Ctx() context: HandlerContext): Promise<void> {
    const outcome = await this.batcher.submit({ event, streamSeq: context.streamSeq });
    // An earlier event of this run is still on its way (redelivered); apply this one after it. The
    // wait grows with each try, so a predecessor that is itself failing costs little while it lasts.
    if (outcome === 'gap') {
      const delayMs = Math.min(GAP_RETRY_CAP_MS, GAP_RETRY_BASE_MS * 2 ** Math.min(context.deliveryCount - 1, 16));
      throw new RetryLater(delayMs, `${event.type} #${event.seq} of ${event.runId} arrived before its predecessor`);
    }
  }
}
