import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartPanels, type NatsMessagesPerRun } from './analysis';
import type { BenchOutcome, Figures } from './bench';
import { renderChart } from './chart';
import type { BenchConfig } from './config';
import { BENCH_OWNER, type NatsMessageCounts } from './nats-monitor';
import { round, roundedSummary, type Summary } from './util';

const FIGURE_NOTES: Record<keyof Figures, string> = {
  runs_per_s: 'closed loop, 1-step runs: callbacks per second in the window',
  runs_per_s_3step: 'closed loop, 3-step runs (2 tool calls + answer)',
  create_p50_ms: 'POST .../messages/async latency, open loop at the offered rate',
  create_p99_ms: 'same, 99th percentile',
  first_step_p50_ms: 'create response -> model receives the first request (open loop)',
  step_overhead_p50_ms: 'model response end -> same run\'s next model request (3-step)',
  callback_p50_ms: 'RunFinished published -> callback received (open loop)',
  ceiling_runs_per_s: 'raw JetStream + 4 consumers + Postgres writes, 1-step event count',
  peak_rss_mb: 'largest VmRSS of any service process',
  nats_msgs_per_run_1step: 'NATS messages in + out of all services per 1-step run (nats-server /connz)',
};

export function renderReport(outcome: BenchOutcome, config: BenchConfig): string {
  const lines: string[] = [];
  lines.push('');
  lines.push(`letta-jetstream-server bench (${config.quick ? 'quick' : 'full'}), model latency ${config.modelLatencyMs} ms, ${config.agents} agents per phase, ${config.replicas} process(es) per service, ${config.gatewayWorkers} gateway worker(s)`);
  lines.push(`machine: ${outcome.machine.cpu_model}, ${outcome.machine.cores} cores, ${outcome.machine.memory_mb} MB; node ${outcome.machine.node}; nats-server ${outcome.machine.nats_server}; postgres ${outcome.machine.postgres}`);
  lines.push('');
  lines.push(table(
    ['figure', 'value', 'how'],
    (Object.keys(FIGURE_NOTES) as (keyof Figures)[]).map((key) => [key, outcome.figures[key] === -1 ? 'n/a' : String(outcome.figures[key]), FIGURE_NOTES[key]]),
  ));
  lines.push('');
  lines.push('phases');
  lines.push(table(
    ['phase', 'runs', 'failed/refused/shed creates', 'runs/s', 'create p50/p99 ms', 'first step p50/p99', 'step overhead p50/p99', 'callback p50/p99', 'run p50/p99 ms', 'events/run', 'model req/run'],
    outcome.phases.map((phase) => [
      phase.name,
      String(phase.runs_created),
      `${phase.create_failures} / ${phase.create_refused_connections} / ${phase.create_shed}`,
      fmt(phase.runs_per_s, 1),
      pair(phase.create_ms),
      pair(phase.first_step_ms),
      pair(phase.step_overhead_ms),
      pair(phase.callback_ms),
      pair(phase.run_ms),
      phase.events_per_run === null ? 'n/a' : fmt(phase.events_per_run, 2),
      fmt(phase.model_requests_per_run, 2),
    ]),
  ));
  const processNames = [...new Set(outcome.phases.flatMap((phase) => Object.keys(phase.cpu_cores)))].filter((name) => name !== 'machine_busy_fraction');
  if (processNames.length) {
    lines.push('');
    lines.push('CPU cores used during each measurement window (machine busy = share of all cores)');
    lines.push(table(
      ['phase', ...processNames, 'machine busy'],
      outcome.phases.map((phase) => [
        phase.name,
        ...processNames.map((name) => fmt(phase.cpu_cores[name] ?? NaN, 2)),
        `${fmt((phase.cpu_cores.machine_busy_fraction ?? NaN) * 100, 0)}%`,
      ]),
    ));
  }
  const perRunPhases = outcome.phases.filter((phase) => Object.keys(phase.cpu_ms_per_run).length > 0);
  if (perRunPhases.length && processNames.length) {
    lines.push('');
    lines.push('cost per run completed in the window: CPU ms per process (total leaves out "other"), and Postgres activity of the bench database');
    const dbKeys = [...new Set(perRunPhases.flatMap((phase) => Object.keys(phase.db_per_run)))];
    lines.push(table(
      ['phase', ...processNames.map((name) => `${name} ms`), 'total ms', ...dbKeys.map((key) => `db ${key}`)],
      perRunPhases.map((phase) => [
        phase.name,
        ...processNames.map((name) => fmt(phase.cpu_ms_per_run[name] ?? NaN, 1)),
        fmt(processNames.filter((name) => name !== 'other').reduce((sum, name) => sum + (phase.cpu_ms_per_run[name] ?? 0), 0), 1),
        ...dbKeys.map((key) => fmt(phase.db_per_run[key] ?? NaN, 1)),
      ]),
    ));
  }
  const natsPhases = outcome.phases.filter((phase) => phase.nats_msgs_per_run !== null);
  if (natsPhases.length) {
    lines.push('');
    lines.push(
      'NATS messages per run completed in the window (from nats-server\'s /connz): in = publishes, requests and acks a service sent; ' +
        'out = deliveries and replies it received; bench = the bench\'s own connections, not in the totals',
    );
    const owners = [...new Set(natsPhases.flatMap((phase) => Object.keys(phase.nats_msgs_per_run!.by_owner)))].filter((owner) => owner !== BENCH_OWNER);
    const inOut = (counts: NatsMessageCounts | undefined) => (counts ? `${fmt(counts.in, 1)} / ${fmt(counts.out, 1)}` : '-');
    lines.push(table(
      ['phase', ...owners.map((owner) => `${owner} in/out`), 'total in', 'total out', 'total', `${BENCH_OWNER} in/out`],
      natsPhases.map((phase) => {
        const messages = phase.nats_msgs_per_run!;
        return [
          phase.name,
          ...owners.map((owner) => inOut(messages.by_owner[owner])),
          fmt(messages.total_in, 1),
          fmt(messages.total_out, 1),
          fmt(messages.total, 1),
          inOut(messages.by_owner[BENCH_OWNER]),
        ];
      }),
    ));
  }
  const stageNames = [...new Set(outcome.phases.flatMap((phase) => Object.keys(phase.stages_ms)))];
  if (stageNames.length) {
    lines.push('');
    lines.push('where a run\'s time goes: p50 / p99 ms of each hop (event times from the NATS tap)');
    lines.push(table(
      ['hop [who]', ...outcome.phases.map((phase) => phase.name)],
      stageNames.map((stage) => [stage, ...outcome.phases.map((phase) => (phase.stages_ms[stage] ? pair(phase.stages_ms[stage]) : '-'))]),
    ));
  }
  const consumers = [...new Set(outcome.phases.flatMap((phase) => Object.keys(phase.consumer_backlog)))];
  if (consumers.length) {
    lines.push('');
    lines.push('consumer backlog during the window: unacknowledged events, p50 / max; and refused publishes per run');
    lines.push(table(
      ['phase', ...consumers, 'refused publishes/run'],
      outcome.phases.map((phase) => [
        phase.name,
        ...consumers.map((name) => {
          const summary = phase.consumer_backlog[name];
          return summary && summary.count ? `${fmt(summary.p50, 0)} / ${fmt(summary.max, 0)}` : '-';
        }),
        phase.rejected_publishes_per_run === null ? 'n/a' : fmt(phase.rejected_publishes_per_run, 2),
      ]),
    ));
  }
  lines.push('');
  lines.push(table(
    ['service', 'peak RSS MB', 'WARN/ERROR lines'],
    Object.entries(outcome.services).map(([name, service]) => [name, fmt(service.peak_rss_mb, 1), String(service.warnings)]),
  ));
  if (outcome.ceiling.length) {
    lines.push('');
    lines.push('ceiling (no services: raw conditional publishes, 4 durable pull consumers, projector-style batched Postgres writes)');
    lines.push(table(
      ['shape', 'runs', 'events/run', 'payload B', 'elapsed s', 'publish s', 'runs/s', 'events/s'],
      outcome.ceiling.map((result) => [
        result.shape,
        String(result.runs),
        String(result.events_per_run),
        String(result.payload_bytes),
        fmt(result.elapsed_ms / 1000, 2),
        fmt(result.publish_elapsed_ms / 1000, 2),
        fmt(result.runs_per_s, 1),
        fmt(result.events_per_s, 0),
      ]),
    ));
  }
  for (const profile of outcome.profiles) {
    lines.push('');
    lines.push(`cpu profile ${profile.service}: ${profile.busy_ms} ms busy of ${profile.total_ms} ms sampled; by area: ${profile.by_area.slice(0, 6).map((area) => `${area.area} ${area.self_pct}%`).join(', ')}`);
    lines.push(table(
      ['self %', 'self ms', 'function', 'location'],
      profile.top_functions.slice(0, 12).map((spot) => [fmt(spot.self_pct, 1), String(spot.self_ms), spot.function, spot.location]),
    ));
  }
  if (outcome.profileDir) lines.push(`\nraw .cpuprofile files: ${outcome.profileDir}`);
  lines.push('');
  lines.push(`bench process: ${outcome.bench.cpu_s} CPU s, event-loop delay p99 ${outcome.bench.event_loop_delay_p99_ms} ms; whole bench ${outcome.durationS} s`);
  for (const note of outcome.notes) lines.push(`note: ${note}`);
  lines.push(outcome.failures.length === 0 ? 'checks: every run completed and delivered its callback exactly once' : `checks FAILED:\n${outcome.failures.map((f) => `  - ${f}`).join('\n')}`);
  return lines.join('\n');
}

/** Writes `bench-<timestamp>.json|.svg` and `latest.json|.svg` under `dir`; returns the file names. */
export function writeResults(outcome: BenchOutcome, config: BenchConfig, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = outcome.startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const json = JSON.stringify(resultsDocument(outcome, config), null, 2);
  const svg = chartOf(outcome, config);
  const names = [`bench-${stamp}.json`, `bench-${stamp}.svg`, 'latest.json', 'latest.svg'];
  writeFileSync(join(dir, names[0]), `${json}\n`);
  writeFileSync(join(dir, names[1]), svg);
  writeFileSync(join(dir, names[2]), `${json}\n`);
  writeFileSync(join(dir, names[3]), svg);
  return names;
}

function resultsDocument(outcome: BenchOutcome, config: BenchConfig): object {
  const { profile, serviceEnv, ...rest } = config;
  return {
    figures: outcome.figures,
    ok: outcome.failures.length === 0,
    failures: outcome.failures,
    notes: outcome.notes,
    started_at: outcome.startedAt.toISOString(),
    duration_s: outcome.durationS,
    config: { ...rest, profile, service_env: serviceEnv },
    machine: outcome.machine,
    phases: outcome.phases.map((phase) => ({
      ...phase,
      runs_per_s: round(phase.runs_per_s, 2),
      events_per_run: phase.events_per_run === null ? null : round(phase.events_per_run, 3),
      events_per_run_seen: phase.events_per_run_seen === null ? null : round(phase.events_per_run_seen, 3),
      event_bytes_avg: phase.event_bytes_avg === null ? null : Math.round(phase.event_bytes_avg),
      model_requests_per_run: round(phase.model_requests_per_run, 3),
      create_ms: roundedSummary(phase.create_ms),
      first_step_ms: roundedSummary(phase.first_step_ms),
      step_overhead_ms: roundedSummary(phase.step_overhead_ms),
      callback_ms: roundedSummary(phase.callback_ms),
      run_ms: roundedSummary(phase.run_ms),
      schedule_lag_ms: phase.schedule_lag_ms ? roundedSummary(phase.schedule_lag_ms) : null,
      cpu_cores: Object.fromEntries(Object.entries(phase.cpu_cores).map(([name, value]) => [name, round(value, 3)])),
      cpu_ms_per_run: Object.fromEntries(Object.entries(phase.cpu_ms_per_run).map(([name, value]) => [name, round(value, 2)])),
      db_per_run: Object.fromEntries(Object.entries(phase.db_per_run).map(([name, value]) => [name, round(value, 1)])),
      nats_msgs_per_run: phase.nats_msgs_per_run && natsMessagesDocument(phase.nats_msgs_per_run),
      consumer_backlog: Object.fromEntries(Object.entries(phase.consumer_backlog).map(([name, summary]) => [name, roundedSummary(summary, 0)])),
      rejected_publishes_per_run: phase.rejected_publishes_per_run === null ? null : round(phase.rejected_publishes_per_run, 3),
      stages_ms: Object.fromEntries(Object.entries(phase.stages_ms).map(([name, summary]) => [name, roundedSummary(summary)])),
    })),
    steps_sample: outcome.stepsSample,
    ceiling: outcome.ceiling.map((result) => ({
      ...result,
      elapsed_ms: round(result.elapsed_ms, 1),
      publish_elapsed_ms: round(result.publish_elapsed_ms, 1),
      runs_per_s: round(result.runs_per_s, 1),
      events_per_s: Math.round(result.events_per_s),
    })),
    services: outcome.services,
    service_warning_samples: outcome.warningSamples,
    bench_process: outcome.bench,
    profiles: outcome.profiles,
    timeline: outcome.timeline,
  };
}

/** Flat in the results file, like cpu_ms_per_run: `{ <service>: { in, out }, ..., total_in, total_out, total }`. */
function natsMessagesDocument({ by_owner, total_in, total_out, total }: NatsMessagesPerRun): object {
  return {
    ...Object.fromEntries(Object.entries(by_owner).map(([owner, counts]) => [owner, { in: round(counts.in, 2), out: round(counts.out, 2) }])),
    total_in: round(total_in, 2),
    total_out: round(total_out, 2),
    total: round(total, 2),
  };
}

function chartOf(outcome: BenchOutcome, config: BenchConfig): string {
  const f = outcome.figures;
  const subtitle =
    `${outcome.startedAt.toISOString()} | ${outcome.machine.cores} cores ${outcome.machine.cpu_model} | model latency ${config.modelLatencyMs} ms | ` +
    `runs/s ${f.runs_per_s} (3-step ${f.runs_per_s_3step}) | create p50/p99 ${f.create_p50_ms}/${f.create_p99_ms} ms | ceiling ${f.ceiling_runs_per_s} | dashed: measurement windows`;
  return renderChart('letta-jetstream-server bench', subtitle, outcome.timeline.bucket_s, chartPanels(outcome.timeline), outcome.phaseBands);
}

function pair(summary: Summary): string {
  return summary.count === 0 ? 'n/a' : `${fmt(summary.p50, 1)} / ${fmt(summary.p99, 1)}`;
}

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
