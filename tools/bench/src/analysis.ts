import type { CallbackSink } from './callback-sink';
import type { BacklogSample } from './consumer-sampler';
import type { Panel, PhaseBand } from './chart';
import { BENCH_OWNER, type NatsMessageCounts } from './nats-monitor';
import type { EventTap, RunRecord } from './run-tracker';
import { percentile, summarize, type Summary } from './util';

export interface PhaseDefinition {
  name: string;
  kind: 'closed' | 'open';
  shape: 1 | 3;
}

/** What happened in one phase, gathered while it ran. */
export interface PhaseRecord {
  definition: PhaseDefinition;
  startMs: number;
  /** Window the throughput (closed) or the latency figures (open) are taken over. */
  windowStartMs: number;
  windowEndMs: number;
  /** When the phase's last run had delivered its callback (or the drain gave up). */
  drainedAtMs: number;
  /** RUN_EVENTS messages added by the phase's runs (stream info), null when not quiescent. */
  streamMessages: number | null;
  cpuCores: Record<string, number>;
  /** pg_stat_database counter deltas over the window. */
  database: Record<string, number>;
  /** NATS messages of each service's connections (and the bench's) over the window. */
  natsMessages: Record<string, NatsMessageCounts>;
  scheduleLagMs: number[];
  offeredRate: number | null;
}

export interface PhaseStats {
  name: string;
  kind: string;
  shape: number;
  runs_created: number;
  /** Creates that failed with an HTTP error or timed out. */
  create_failures: number;
  /** Creates whose connection the server's host reset or refused before the gateway saw them. */
  create_refused_connections: number;
  /** Creates the gateway's admission control answered with 503/429 (nothing created). */
  create_shed: number;
  window_s: number;
  offered_runs_per_s: number | null;
  runs_completed_in_window: number;
  runs_per_s: number;
  create_ms: Summary;
  first_step_ms: Summary;
  step_overhead_ms: Summary;
  callback_ms: Summary;
  /** POST sent to callback received. */
  run_ms: Summary;
  model_requests_per_run: number;
  events_per_run: number | null;
  events_per_run_seen: number | null;
  event_bytes_avg: number | null;
  schedule_lag_ms: Summary | null;
  cpu_cores: Record<string, number>;
  /** CPU milliseconds each process spent per run completed in the window. */
  cpu_ms_per_run: Record<string, number>;
  /** Postgres activity of the bench database per run completed in the window (approximate). */
  db_per_run: Record<string, number>;
  /** NATS messages per run completed in the window; null when none completed. */
  nats_msgs_per_run: NatsMessagesPerRun | null;
  /** Where a run's time goes: each hop between two observed moments, over the measured runs. */
  stages_ms: Record<string, Summary>;
  /** Unacknowledged events per durable consumer, sampled twice a second during the window. */
  consumer_backlog: Record<string, Summary>;
  /** Publishes per run that the stream refused (lost races, retries). */
  rejected_publishes_per_run: number | null;
}

export interface NatsMessagesPerRun {
  /** Per service, and `bench` for the bench's own connections, which the totals leave out (the bench is not the server's cost). */
  by_owner: Record<string, NatsMessageCounts>;
  total_in: number;
  total_out: number;
  total: number;
}

type Marks = Record<string, number>;

/**
 * Hops of a run between moments the bench sees: event publishes (tap), the create response, model
 * requests and responses (fake model hooks) and the callback. `last` picks a run's final step.
 */
type Moment = (run: RunRecord, marks: Marks, callbackAtMs: number | undefined) => number | undefined;

const STAGES: { name: string; owner: string; from: Moment; to: Moment }[] = [
  { name: 'RunCreated -> create response', owner: 'gateway', from: (_, m) => m['RunCreated#1'], to: (run) => run.respondedAtMs },
  { name: 'RunCreated -> RunStarted', owner: 'orchestrator', from: (_, m) => m['RunCreated#1'], to: (_, m) => m['RunStarted#1'] },
  { name: 'RunStarted -> StepRequested', owner: 'orchestrator', from: (_, m) => m['RunStarted#1'], to: (_, m) => m['StepRequested#1'] },
  { name: 'StepRequested -> model request', owner: 'llm-worker', from: (_, m) => m['StepRequested#1'], to: (run) => run.modelRequestAtMs[0] },
  { name: 'model request -> response end', owner: 'fake model', from: (run) => run.modelRequestAtMs[0], to: (run) => run.modelResponseAtMs[0] },
  { name: 'model response -> StepCompleted', owner: 'llm-worker', from: (run) => run.modelResponseAtMs[0], to: (_, m) => m['StepCompleted#1'] },
  { name: 'StepCompleted -> StepRequested (next step)', owner: 'orchestrator', from: (_, m) => m['StepCompleted#1'], to: (_, m) => m['StepRequested#2'] },
  { name: 'StepRequested -> model request (next step)', owner: 'llm-worker', from: (_, m) => m['StepRequested#2'], to: (run) => run.modelRequestAtMs[1] },
  { name: 'last StepCompleted -> RunFinished', owner: 'orchestrator', from: (_, m) => lastOf(m, 'StepCompleted'), to: (_, m) => m['RunFinished#1'] },
  { name: 'RunFinished -> callback received', owner: 'callback-dispatcher', from: (_, m) => m['RunFinished#1'], to: (_, __, callbackAtMs) => callbackAtMs },
  { name: 'callback received -> CallbackAttempted', owner: 'callback-dispatcher', from: (_, __, callbackAtMs) => callbackAtMs, to: (_, m) => m['CallbackAttempted#1'] },
];

function lastOf(marks: Marks, type: string): number | undefined {
  let last: number | undefined;
  for (let n = 1; marks[`${type}#${n}`] !== undefined; n++) last = marks[`${type}#${n}`];
  return last;
}

function stageDurations(runs: RunRecord[], sink: CallbackSink, tap: EventTap): Record<string, Summary> {
  const durations = new Map<string, number[]>(STAGES.map((stage) => [stage.name, []]));
  for (const run of runs) {
    const marks = tap.byRunId.get(run.runId!)?.marks;
    if (!marks) continue;
    const callbackAtMs = sink.byRunId.get(run.runId!)?.firstAtMs;
    for (const stage of STAGES) {
      const from = stage.from(run, marks, callbackAtMs);
      const to = stage.to(run, marks, callbackAtMs);
      if (from !== undefined && to !== undefined && Number.isFinite(from) && Number.isFinite(to)) durations.get(stage.name)!.push(to - from);
    }
  }
  const result: Record<string, Summary> = {};
  for (const stage of STAGES) {
    const values = durations.get(stage.name)!;
    if (values.length > 0) result[`${stage.name} [${stage.owner}]`] = summarize(values);
  }
  return result;
}

export function phaseStats(phase: PhaseRecord, runs: RunRecord[], sink: CallbackSink, tap: EventTap, backlog: BacklogSample[]): PhaseStats {
  const { definition } = phase;
  const created = runs.filter((run) => run.runId !== null);
  // Closed loops: everything sent inside the window. Open loop: everything after its warm-up.
  const measured = created.filter((run) => run.sentAtMs >= phase.windowStartMs && run.sentAtMs < phase.windowEndMs);
  const windowS = (phase.windowEndMs - phase.windowStartMs) / 1000;

  const createMs: number[] = [];
  const firstStepMs: number[] = [];
  const stepOverheadMs: number[] = [];
  const callbackMs: number[] = [];
  const runMs: number[] = [];
  for (const run of measured) {
    createMs.push(run.respondedAtMs - run.sentAtMs);
    if (run.modelRequestAtMs.length > 0) firstStepMs.push(run.modelRequestAtMs[0] - run.respondedAtMs);
    for (let step = 1; step < run.modelRequestAtMs.length; step++) {
      const previousEnd = run.modelResponseAtMs[step - 1];
      if (previousEnd !== undefined) stepOverheadMs.push(run.modelRequestAtMs[step] - previousEnd);
    }
    const callback = sink.byRunId.get(run.runId!);
    const seen = tap.byRunId.get(run.runId!);
    if (callback && seen && Number.isFinite(seen.finishedAtMs)) callbackMs.push(callback.firstAtMs - seen.finishedAtMs);
    if (callback) runMs.push(callback.firstAtMs - run.sentAtMs);
  }

  let completedInWindow = 0;
  let events = 0;
  let rejected = 0;
  let bytes = 0;
  let modelRequests = 0;
  for (const run of created) {
    const callback = sink.byRunId.get(run.runId!);
    if (callback && callback.firstAtMs >= phase.windowStartMs && callback.firstAtMs <= phase.windowEndMs) completedInWindow++;
    const seen = tap.byRunId.get(run.runId!);
    if (seen) {
      events += seen.events;
      rejected += seen.rejected;
      bytes += seen.bytes;
    }
    modelRequests += run.modelRequestAtMs.length;
  }

  return {
    name: definition.name,
    kind: definition.kind,
    shape: definition.shape,
    runs_created: created.length,
    create_failures: runs.filter((run) => run.createErrorKind === 'other').length,
    create_refused_connections: runs.filter((run) => run.createErrorKind === 'connection').length,
    create_shed: runs.filter((run) => run.createErrorKind === 'shed').length,
    window_s: windowS,
    offered_runs_per_s: phase.offeredRate,
    runs_completed_in_window: completedInWindow,
    runs_per_s: windowS > 0 ? completedInWindow / windowS : NaN,
    create_ms: summarize(createMs),
    first_step_ms: summarize(firstStepMs),
    step_overhead_ms: summarize(stepOverheadMs),
    callback_ms: summarize(callbackMs),
    run_ms: summarize(runMs),
    model_requests_per_run: created.length ? modelRequests / created.length : NaN,
    events_per_run: phase.streamMessages !== null && created.length ? phase.streamMessages / created.length : null,
    events_per_run_seen: created.length && events ? events / created.length : null,
    event_bytes_avg: events ? bytes / events : null,
    schedule_lag_ms: phase.scheduleLagMs.length ? summarize(phase.scheduleLagMs) : null,
    cpu_cores: phase.cpuCores,
    cpu_ms_per_run: perRun(
      Object.fromEntries(Object.entries(phase.cpuCores).filter(([name]) => name !== 'machine_busy_fraction').map(([name, cores]) => [name, cores * windowS * 1000])),
      completedInWindow,
    ),
    db_per_run: perRun(phase.database, completedInWindow),
    nats_msgs_per_run: natsMessagesPerRun(phase.natsMessages, completedInWindow),
    stages_ms: stageDurations(measured, sink, tap),
    consumer_backlog: backlogDuring(backlog, phase.windowStartMs, phase.windowEndMs),
    rejected_publishes_per_run: created.length && events ? rejected / created.length : null,
  };
}

function backlogDuring(samples: BacklogSample[], fromMs: number, toMs: number): Record<string, Summary> {
  const byConsumer = new Map<string, number[]>();
  for (const sample of samples) {
    if (sample.atMs < fromMs || sample.atMs > toMs) continue;
    for (const [name, value] of Object.entries(sample.backlog)) {
      if (!byConsumer.has(name)) byConsumer.set(name, []);
      byConsumer.get(name)!.push(value);
    }
  }
  return Object.fromEntries([...byConsumer].map(([name, values]) => [name, summarize(values)]));
}

function perRun(totals: Record<string, number>, runs: number): Record<string, number> {
  if (runs === 0) return {};
  return Object.fromEntries(Object.entries(totals).map(([name, total]) => [name, total / runs]));
}

function natsMessagesPerRun(messages: Record<string, NatsMessageCounts>, runs: number): NatsMessagesPerRun | null {
  if (runs === 0) return null;
  const byOwner = Object.fromEntries(Object.entries(messages).map(([owner, counts]) => [owner, { in: counts.in / runs, out: counts.out / runs }]));
  const services = Object.entries(byOwner).filter(([owner]) => owner !== BENCH_OWNER).map(([, counts]) => counts);
  const totalIn = services.reduce((sum, counts) => sum + counts.in, 0);
  const totalOut = services.reduce((sum, counts) => sum + counts.out, 0);
  return { by_owner: byOwner, total_in: totalIn, total_out: totalOut, total: totalIn + totalOut };
}

export interface Timeline {
  bucket_s: number;
  created_per_s: number[];
  completed_per_s: number[];
  create_p50_ms: (number | null)[];
  create_p99_ms: (number | null)[];
}

/** Per-second buckets from the start of the first phase to the end of the last drain. */
export function timeline(runs: RunRecord[], sink: CallbackSink, originMs: number, endMs: number): Timeline {
  const buckets = Math.max(1, Math.ceil((endMs - originMs) / 1000));
  const created = new Array<number>(buckets).fill(0);
  const completed = new Array<number>(buckets).fill(0);
  const latencies: number[][] = Array.from({ length: buckets }, () => []);
  const bucketOf = (atMs: number) => Math.floor((atMs - originMs) / 1000);
  for (const run of runs) {
    const sent = bucketOf(run.sentAtMs);
    if (sent >= 0 && sent < buckets && run.runId) {
      created[sent]++;
      latencies[sent].push(run.respondedAtMs - run.sentAtMs);
    }
    const callback = run.runId ? sink.byRunId.get(run.runId) : undefined;
    if (callback) {
      const done = bucketOf(callback.firstAtMs);
      if (done >= 0 && done < buckets) completed[done]++;
    }
  }
  return {
    bucket_s: 1,
    created_per_s: created,
    completed_per_s: completed,
    create_p50_ms: latencies.map((values) => (values.length ? round2(percentile(values, 50)) : null)),
    create_p99_ms: latencies.map((values) => (values.length ? round2(percentile(values, 99)) : null)),
  };
}

export function chartPanels(data: Timeline): Panel[] {
  return [
    {
      title: 'Throughput per second',
      unit: 'runs / s',
      series: [
        { label: 'completed (callbacks)', color: '#1f6fd1', values: data.completed_per_s },
        { label: 'created (POST 200)', color: '#e08a1e', values: data.created_per_s },
      ],
    },
    {
      title: 'Create latency (POST .../messages/async), by second of sending',
      unit: 'ms',
      series: [
        { label: 'p50', color: '#2a9d4b', values: data.create_p50_ms },
        { label: 'p99', color: '#c8322b', values: data.create_p99_ms },
      ],
    },
  ];
}

export function phaseBands(phases: PhaseRecord[], originMs: number): PhaseBand[] {
  return phases.map((phase) => ({
    label: phase.definition.name,
    startS: (phase.startMs - originMs) / 1000,
    endS: (phase.drainedAtMs - originMs) / 1000,
    windowStartS: (phase.windowStartMs - originMs) / 1000,
    windowEndS: (phase.windowEndMs - originMs) / 1000,
  }));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
