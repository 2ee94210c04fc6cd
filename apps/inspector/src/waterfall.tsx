import { Empty } from './components';
import { formatDuration } from './format';
import type { TraceSpan } from './types';

const NS_PER_MS = 1e6;

interface Row {
  span: TraceSpan;
  depth: number;
  startMs: number;
  durationMs: number;
}

/** Spans in tree order (each after its parent), with their depth and start. */
function rows(spans: TraceSpan[]): Row[] {
  const ids = new Set(spans.map((span) => span.SpanId));
  const children = new Map<string, TraceSpan[]>();
  for (const span of spans) {
    const parent = ids.has(span.ParentSpanId) ? span.ParentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const result: Row[] = [];
  const visit = (parent: string, depth: number) => {
    const ordered = [...(children.get(parent) ?? [])].sort((a, b) => Date.parse(a.Timestamp) - Date.parse(b.Timestamp));
    for (const span of ordered) {
      result.push({ span, depth, startMs: Date.parse(span.Timestamp), durationMs: span.Duration / NS_PER_MS });
      visit(span.SpanId, depth + 1);
    }
  };
  visit('', 0);
  return result;
}

const LABELS: Record<string, string> = { run: 'run', agent_step: 'step', llm_request: 'model request', time_to_first_token: 'first token', callback: 'callback' };

function label(span: TraceSpan): string {
  const base = LABELS[span.SpanName] ?? span.SpanName;
  const attributes = span.SpanAttributes;
  if (span.SpanName === 'agent_step') return `${base} ${attributes.step_index ?? ''}${attributes.tools_called ? ` · ${attributes.tools_called}` : ''}`;
  if (span.SpanName === 'callback') return `${base} ${attributes.attempt ?? ''}${attributes.status_code ? ` → ${attributes.status_code}` : ''}`;
  return base;
}

/** The run's trace as a waterfall: one bar per span, placed on the run's own time axis. */
export function Waterfall({ spans }: { spans: TraceSpan[] }) {
  if (spans.length === 0) return <Empty>No spans yet.</Empty>;
  const all = rows(spans);
  const start = Math.min(...all.map((row) => row.startMs));
  const end = Math.max(...all.map((row) => row.startMs + row.durationMs));
  const total = Math.max(end - start, 1);
  return (
    <div class="waterfall" role="table" aria-label="Trace spans">
      <div role="row" class="waterfall-row waterfall-head">
        <span role="columnheader">Span</span>
        <span role="columnheader">
          0 – {formatDuration(total)}
        </span>
        <span role="columnheader" class="num">
          Duration
        </span>
      </div>
      {all.map((row) => {
        const bar = { left: `${((row.startMs - start) / total) * 100}%`, width: `${Math.max((row.durationMs / total) * 100, 0.4)}%` };
        return (
          <div role="row" class="waterfall-row" key={row.span.SpanId} data-span={row.span.SpanName}>
            <span role="cell" class="span-name" style={{ paddingLeft: `${row.depth * 0.9}rem` }} title={row.span.StatusMessage || undefined}>
              {label(row.span)}
            </span>
            <span role="cell" class="track">
              <span class={`bar bar-${row.span.SpanName} ${row.span.StatusCode === 'STATUS_CODE_ERROR' ? 'bar-error' : ''}`} style={bar} />
            </span>
            <span role="cell" class="num">
              {formatDuration(row.durationMs)}
            </span>
          </div>
        );
      })}
    </div>
  );
}
