import { Empty, ErrorState, Loading } from './components';
import { formatTime } from './format';
import { useApi } from './hooks';
import type { Run } from './types';

/** An agent's scheduled message as GET /v1/agents/{id}/schedule lists it. */
interface ScheduledMessage {
  id: string;
  next_scheduled_time: string | null;
  schedule: { type?: 'one-time'; scheduled_at: number } | { type: 'recurring'; cron_expression: string };
  message: { messages: { role: string; content: unknown }[]; callback_url?: string };
  last_fired_at?: string | null;
  last_run_id?: string | null;
  fired_count?: number;
  skipped_count?: number;
  last_error?: string | null;
}

function when(schedule: ScheduledMessage['schedule']): string {
  return 'cron_expression' in schedule ? `cron ${schedule.cron_expression} (UTC)` : `once, ${formatTime(new Date(schedule.scheduled_at).toISOString())}`;
}

function firstText(message: ScheduledMessage['message']): string {
  const content = message.messages[0]?.content;
  const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((part) => (part as { text?: string }).text ?? '').join(' ') : '';
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** The agent page's list of its scheduled messages: when, what, next time, and the last run a firing made. */
export function AgentSchedules({ agentId }: { agentId: string }) {
  const schedules = useApi<{ scheduled_messages: ScheduledMessage[]; has_next_page: boolean }>(`/v1/agents/${agentId}/schedule?limit=100`, { refreshMs: 5_000 });
  if (!schedules.data) return schedules.error ? <ErrorState error={schedules.error} what="the scheduled messages" retry={schedules.reload} /> : <Loading what="the scheduled messages" />;
  const items = schedules.data.scheduled_messages;
  if (items.length === 0) return <Empty>No scheduled messages.</Empty>;
  return (
    <ul class="blocks">
      {items.map((item) => (
        <li key={item.id} class="block" data-schedule={item.id}>
          <div class="message-meta">
            <strong>{when(item.schedule)}</strong>
            <span class="muted small">next: {item.next_scheduled_time ? formatTime(item.next_scheduled_time) : 'none (done)'}</span>
          </div>
          <p class="small">{firstText(item.message)}</p>
          <p class="muted small">
            <span class="mono">{item.id}</span> · fired {item.fired_count ?? 0}
            {item.skipped_count ? `, skipped ${item.skipped_count}` : ''}
            {item.last_run_id && (
              <>
                {' '}
                · last run{' '}
                <a href={`#/runs/${item.last_run_id}`} class="mono">
                  {item.last_run_id}
                </a>
              </>
            )}
          </p>
          {item.last_error && <p class="muted small">last: {item.last_error}</p>}
        </li>
      ))}
    </ul>
  );
}

/** The schedule a run was made by (its metadata), or null for a run a client asked for. */
export function scheduleOf(run: Run): { scheduleId: string; scheduledFor: string | null } | null {
  const { schedule_id: scheduleId, scheduled_for: scheduledFor } = run.metadata ?? {};
  return typeof scheduleId === 'string' ? { scheduleId, scheduledFor: typeof scheduledFor === 'string' ? scheduledFor : null } : null;
}
