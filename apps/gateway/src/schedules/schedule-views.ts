import type { ScheduleRecord } from './schedule-store';

/** Letta's ScheduledMessage (the client's ScheduleRetrieveResponse), plus what this server tells beyond it. */
export function scheduledMessageView(record: ScheduleRecord) {
  const { message, spec } = record;
  return {
    id: record.id,
    agent_id: record.agentId,
    message: {
      messages: message.messages,
      ...(message.callback_url ? { callback_url: message.callback_url } : {}),
      ...(message.include_return_message_types ? { include_return_message_types: message.include_return_message_types } : {}),
      ...(message.max_steps ? { max_steps: message.max_steps } : {}),
    },
    next_scheduled_time: record.fireAt?.toISOString() ?? null,
    schedule: spec.type === 'one-time' ? { type: 'one-time' as const, scheduled_at: spec.scheduledAt } : { type: 'recurring' as const, cron_expression: spec.cronExpression },
    // Not in Letta: what the schedule has done.
    created_at: record.createdAt.toISOString(),
    last_fired_at: record.lastFiredAt?.toISOString() ?? null,
    last_run_id: record.lastRunId,
    fired_count: record.firedCount,
    skipped_count: record.skippedCount,
    last_error: record.lastError,
  };
}
