import { Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { newId } from '@lrs/contracts';
import { parseSchedule } from '@lrs/scheduling';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { callerOrganization } from '../../auth/caller';
import { parseMessageItems } from '../../messages/message-items';
import { ScheduleStore } from '../schedule-store';
import type { CreateScheduleDto } from './create-schedule.dto';

/** A one-time `scheduled_at` this far in the past still fires (at once): clocks differ a little. */
export const PAST_TOLERANCE_MS = 60_000;

/** POST /v1/agents/{agent_id}/schedule: validates everything first, so a refused request stores nothing. */
@Injectable()
export class CreateScheduleUseCase {
  constructor(
    private readonly store: ScheduleStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async execute(agentId: string, body: CreateScheduleDto): Promise<{ id: string; next_scheduled_at?: string }> {
    const { problems } = parseMessageItems(body.messages);
    body.messages.forEach((item, index) => {
      const type = (item as { type?: unknown } | null)?.type;
      if (type !== undefined && type !== 'message') problems.push(`messages.${index}.type: a scheduled message must be a message (type 'message'), not ${JSON.stringify(type)}`);
      else if (item && typeof item === 'object' && ('approve' in item || 'approval_request_id' in item)) problems.push(`messages.${index}: a scheduled message cannot be an approval`);
    });
    if (problems.length) throw new UnprocessableEntityException({ detail: `Invalid request: ${problems.join('; ')}` });
    const parsed = parseSchedule(body.schedule, { now: Date.now(), pastToleranceMs: PAST_TOLERANCE_MS, allowSeconds: this.settings.scheduleCronSeconds });
    if (!parsed.ok) throw new UnprocessableEntityException({ detail: `Invalid request: ${parsed.problem}` });
    const outcome = await this.store.create({
      id: newId('schedule'),
      organizationId: callerOrganization(),
      agentId,
      spec: parsed.spec,
      message: {
        messages: body.messages as Record<string, unknown>[],
        callback_url: body.callback_url ?? null,
        include_return_message_types: body.include_return_message_types ?? null,
        max_steps: body.max_steps ?? null,
      },
      firstFireAt: parsed.firstFireAt,
      max: this.settings.maxSchedulesPerAgent,
    });
    if ('agentNotFound' in outcome) throw new NotFoundException({ detail: 'Agent not found' });
    if ('full' in outcome) {
      throw new UnprocessableEntityException({ detail: `The agent has ${outcome.full} schedules, the most this server allows (MAX_SCHEDULES_PER_AGENT); delete one first` });
    }
    return { id: outcome.created.id, next_scheduled_at: outcome.created.fireAt!.toISOString() };
  }
}
