import type { ComponentChildren } from 'preact';
import { formatDuration, prettyJson } from './format';

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span class={`badge status-${status}`}>{label ?? status}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="state" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorState({ error, retry, what }: { error: Error; retry?: () => void; what: string }) {
  return (
    <div class="state error" role="alert">
      <p>
        Could not load {what}: {error.message}
      </p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/** JSON (or any text) folded away behind its summary; pretty-printed when it parses. */
export function Collapsible({ summary, text, open = false, json = true }: { summary: ComponentChildren; text: string; open?: boolean; json?: boolean }) {
  return (
    <details class="collapsible" open={open}>
      <summary>{summary}</summary>
      <pre class="code">{json ? prettyJson(text) : text}</pre>
    </details>
  );
}

export function Duration({ ms }: { ms: number | null | undefined }) {
  return <span class="num">{formatDuration(ms)}</span>;
}

export function Section({ title, id, children, actions }: { title: string; id: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel" aria-labelledby={`${id}-title`} id={id}>
      <header class="panel-header">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** The callback's outcome as a list cell shows it. */
export function CallbackOutcome({ run }: { run: { callback_url: string | null; callback_status_code: number | null; callback_error: string | null; callback_sent_at: string | null; status: string } }) {
  if (!run.callback_url) return <span class="muted">none</span>;
  if (!run.callback_sent_at) return <span class="muted">{run.status === 'created' || run.status === 'running' ? 'waiting' : 'pending'}</span>;
  const ok = run.callback_error === null && run.callback_status_code !== null && run.callback_status_code < 300;
  return (
    <span class={ok ? 'ok' : 'bad'} title={run.callback_error ?? undefined}>
      {ok ? '✓ ' : '✗ '}
      {run.callback_status_code ?? run.callback_error ?? 'failed'}
    </span>
  );
}

/** One labelled value of a page's facts list (`<dl class="facts">`). */
export function Fact({ label, children, name }: { label: string; children: ComponentChildren; name?: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-fact={name}>{children}</dd>
    </div>
  );
}
