import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { ApprovalPanel } from './approval-panel';
import { CallbackOutcome, Collapsible, Duration, Empty, ErrorState, Fact, Loading, Section, StatusBadge } from './components';
import { elapsedMs, formatCount, formatDuration, formatTime, shortId } from './format';
import { useApi } from './hooks';
import { LiveStream } from './live-stream';
import { Transcript } from './transcript';
import { isActive, type Message, type Run, type RunTimeline, type RunTimelineEntry, type TokenTotals, type TraceSpan } from './types';
import { Waterfall } from './waterfall';
import { scheduleOf } from './schedules';

/** How long after a run ends the page keeps refreshing while its callback is still being tried. */
const CALLBACK_WATCH_MS = 10 * 60_000;

export function RunPage({ runId }: { runId: string }) {
  const [live, setLive] = useState(true);
  const run = useApi<Run>(`/v1/runs/${runId}`, { refreshMs: 1_500, live });
  const timeline = useApi<RunTimeline>(`/v1/runs/${runId}/timeline`, { refreshMs: 1_500, live });
  const messages = useApi<Message[]>(`/v1/runs/${runId}/messages?limit=1000`, { refreshMs: 3_000, live });
  const usage = useApi<TokenTotals>(`/v1/runs/${runId}/usage`, { refreshMs: 3_000, live });
  const trace = useApi<TraceSpan[]>(`/v1/runs/${runId}/trace`, { refreshMs: 3_000, live });
  const current = run.data;

  const callbackSettled = !current?.callback_url || (timeline.data?.entries ?? []).some((entry) => entry.type === 'callback' && entry.final);
  const stillMoving = !current || isActive(current) || (!callbackSettled && elapsedMs(current.completed_at ?? current.created_at, null) < CALLBACK_WATCH_MS);
  useEffect(() => setLive(stillMoving), [stillMoving]);

  const refreshAll = () => [run, timeline, messages, usage, trace].forEach((loaded) => loaded.reload());

  if (run.loading && !current) return <Loading what="the run" />;
  if (run.error && !current) return <ErrorState error={run.error} what={`run ${runId}`} retry={run.reload} />;
  if (!current) return null;

  return (
    <>
      <RunHeader run={current} usage={usage.data} steps={timeline.data?.entries.filter((entry) => entry.type === 'step').length ?? null} onChanged={refreshAll} />
      {current.stop_reason === 'requires_approval' && messages.data && <ApprovalPanel run={current} messages={messages.data} />}
      {isActive(current) && <LiveStream runId={runId} onEnd={refreshAll} />}
      <div class="run-grid">
        <Section title="Timeline" id="timeline">
          {timeline.data ? <Timeline entries={timeline.data.entries} createdAt={current.created_at} /> : timeline.error ? <ErrorState error={timeline.error} what="the timeline" retry={timeline.reload} /> : <Loading what="the timeline" />}
        </Section>
        <Section title="Transcript" id="transcript">
          {messages.data ? <Transcript messages={messages.data} /> : messages.error ? <ErrorState error={messages.error} what="the messages" retry={messages.reload} /> : <Loading what="the messages" />}
        </Section>
      </div>
      <Section title="Trace" id="trace">
        {trace.data ? <Waterfall spans={trace.data} /> : trace.error ? <ErrorState error={trace.error} what="the trace" retry={trace.reload} /> : <Loading what="the trace" />}
      </Section>
    </>
  );
}

function RunHeader({ run, usage, steps, onChanged }: { run: Run; usage: TokenTotals | null; steps: number | null; onChanged: () => void }) {
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async () => {
    setCancelling(true);
    setError(null);
    try {
      await api(`/v1/runs/${run.id}/cancel`, { method: 'POST', body: {} });
      onChanged();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setCancelling(false);
    }
  };
  const duration = run.completed_at ? elapsedMs(run.created_at, run.completed_at) : isActive(run) ? elapsedMs(run.created_at, null) : null;
  const schedule = scheduleOf(run);
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="#/runs">Runs</a> <span aria-hidden="true">/</span> <span class="mono">{run.id}</span>
      </nav>
      <div class="page-title">
        <h1>
          Run <span class="mono">{shortId(run.id)}</span> <StatusBadge status={run.status} />
          {run.stop_reason && <span class="stop-reason" data-testid="stop-reason">{run.stop_reason}</span>}
        </h1>
        <div class="actions">
          {isActive(run) && (
            <button type="button" class="danger" onClick={cancel} disabled={cancelling}>
              {cancelling ? 'Cancelling…' : 'Cancel run'}
            </button>
          )}
          <a class="button" href={`#/agents/${run.agent_id}`}>
            Open agent
          </a>
        </div>
      </div>
      {error && (
        <p class="state error" role="alert">
          Cancel failed: {error}
        </p>
      )}
      <dl class="facts">
        <Fact label="Agent">
          <a href={`#/agents/${run.agent_id}`} class="mono">
            {run.agent_id}
          </a>
        </Fact>
        {run.conversation_id && (
          <Fact label="Conversation">
            <a href={`#/runs?conversation_id=${run.conversation_id}`} class="mono">
              {run.conversation_id}
            </a>
          </Fact>
        )}
        {schedule && (
          <Fact label="Schedule" name="schedule">
            <a href={`#/agents/${run.agent_id}`} class="mono">
              {schedule.scheduleId}
            </a>{' '}
            for {formatTime(schedule.scheduledFor)}
          </Fact>
        )}
        <Fact label="Created">{formatTime(run.created_at)}</Fact>
        <Fact label="Duration">{formatDuration(duration)}</Fact>
        <Fact label="First token">{formatDuration(run.ttft_ns === null ? null : run.ttft_ns / 1e6)}</Fact>
        <Fact label="Steps" name="steps">
          {formatCount(steps)}
        </Fact>
        <Fact label="Tokens">{usage ? `${formatCount(usage.total_tokens)} (${formatCount(usage.prompt_tokens)} in, ${formatCount(usage.completion_tokens)} out)` : '—'}</Fact>
        <Fact label="Callback">
          <CallbackOutcome run={run} />
        </Fact>
      </dl>
      {run.status === 'failed' && (
        <p class="state error" role="status">
          The run failed ({run.stop_reason ?? 'error'}): the timeline below shows the step that failed and why.
        </p>
      )}
    </>
  );
}

function Offset({ at, createdAt }: { at: string; createdAt: string }) {
  const ms = Date.parse(at) - Date.parse(createdAt);
  return (
    <time class="offset num" dateTime={at} title={formatTime(at)}>
      +{formatDuration(Math.max(0, ms))}
    </time>
  );
}

function Entry({ entry }: { entry: RunTimelineEntry }) {
  switch (entry.type) {
    case 'created':
      return (
        <>
          <strong>Created</strong>
          {entry.background && <span class="muted"> in the background</span>}
          {entry.callback_url && (
            <span class="muted">
              , callback to <code>{entry.callback_url}</code>
            </span>
          )}
          <span class="muted">, at most {entry.max_steps} steps</span>
        </>
      );
    case 'queued':
      return (
        <>
          <strong>Queued</strong> behind{' '}
          {entry.behind_run_id ? (
            <a href={`#/runs/${entry.behind_run_id}`} class="mono">
              {shortId(entry.behind_run_id)}
            </a>
          ) : (
            'an earlier run'
          )}{' '}
          for <Duration ms={entry.waited_ms} />
        </>
      );
    case 'started':
      return <strong>Started</strong>;
    case 'step':
      return (
        <>
          <strong>Step {entry.step_index}</strong> <StatusBadge status={entry.status} />
          {entry.model && <span class="muted"> {entry.model}</span>}
          <span class="metrics">
            {' '}
            took <Duration ms={entry.duration_ms} />, first token after <Duration ms={entry.ttft_ms} />
            {entry.usage && <>, {formatCount(entry.usage.total_tokens)} tokens ({formatCount(entry.usage.prompt_tokens)} in, {formatCount(entry.usage.completion_tokens)} out)</>}
          </span>
          {entry.error && (
            <p class="bad">
              {entry.error.type}: {entry.error.message} (after {entry.error.attempts} attempts)
            </p>
          )}
        </>
      );
    case 'tool_call':
      return (
        <>
          <strong>Tool call</strong> <code>{entry.name}</code>
          {entry.needs_approval && <span class="badge status-created"> waits for approval</span>}
          <Collapsible summary="arguments" text={entry.arguments} />
        </>
      );
    case 'tool_return':
      return (
        <>
          <strong>Tool result</strong> <span class={entry.status === 'error' ? 'bad' : 'ok'}>{entry.status}</span> <span class="muted mono small">{entry.tool_call_id}</span>
          <Collapsible summary="result" text={entry.result} />
        </>
      );
    case 'approval':
      return (
        <>
          <strong>{entry.approve ? 'Approved' : 'Denied'}</strong> <span class="muted mono small">{entry.tool_call_id}</span>
          {entry.reason && <span>: {entry.reason}</span>}
        </>
      );
    case 'memory_edit':
      return (
        <>
          <strong>Memory edit</strong> <code>{entry.label}</code> <span class="muted">{entry.operation}</span>
          {entry.version !== null && <span class="muted">, now version {entry.version}</span>} <span class="muted mono small">{entry.tool_call_id ?? ''}</span>
        </>
      );
    case 'finished':
      return (
        <>
          <strong>{entry.status === 'cancelled' ? 'Cancelled' : 'Finished'}</strong> <StatusBadge status={entry.status} /> <span class="stop-reason">{entry.stop_reason}</span>
          {entry.error && <p class="bad">{entry.error}</p>}
        </>
      );
    case 'callback':
      return (
        <>
          <strong>Callback attempt {entry.attempt}</strong>{' '}
          <span class={entry.error === null && entry.status_code !== null && entry.status_code < 300 ? 'ok' : 'bad'}>{entry.status_code ?? 'no answer'}</span> in <Duration ms={entry.latency_ms} />
          {entry.error && <span class="bad"> {entry.error}</span>}
          {!entry.final && <span class="muted"> (will retry)</span>}
        </>
      );
    case 'deleted':
      return <strong>Deleted</strong>;
  }
}

function Timeline({ entries, createdAt }: { entries: RunTimelineEntry[]; createdAt: string }) {
  if (entries.length === 0) return <Empty>No events yet.</Empty>;
  return (
    <ol class="timeline">
      {entries.map((entry, index) => (
        <li key={index} class={`entry entry-${entry.type}`} data-entry={entry.type}>
          <Offset at={entry.at} createdAt={createdAt} />
          <div class="entry-body">
            <Entry entry={entry} />
          </div>
        </li>
      ))}
    </ol>
  );
}
