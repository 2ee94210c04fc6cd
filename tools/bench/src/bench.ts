import { cpus, loadavg, release, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client } from 'pg';
import { RUN_EVENTS_STREAM } from '@lrs/contracts';
import type { JetStreamManager } from '@nats-io/jetstream';
import { phaseBands, phaseStats, timeline, type PhaseDefinition, type PhaseRecord, type PhaseStats, type Timeline } from './analysis';
import type { PhaseBand } from './chart';
import { measureCeiling, type CeilingResult } from './ceiling';
import type { Cleanup } from './cleanup';
import type { BenchConfig } from './config';
import { ConsumerBacklogSampler } from './consumer-sampler';
import { HttpJsonClient } from './http-client';
import { closedLoop, createAgents, openLoop, type LoadContext } from './load';
import { messagesBetween, readConnectionCounts, type ConnectionCounts } from './nats-monitor';
import { summarizeProfiles, type ProfileSummary } from './profile';
import { ProcessSampler, coresBetween, cpuSnapshot, type CpuSnapshot, type SampleTarget } from './proc-sampler';
import { EventTap, RunTracker, type RunRecord } from './run-tracker';
import { startStack, type BenchStack } from './stack';
import { errorMessage, mapLimit, nowMs, progress, round, sleep } from './util';

/** The figures of the bench, in this order; -1 marks a figure that could not be measured. */
export interface Figures {
  runs_per_s: number;
  runs_per_s_3step: number;
  create_p50_ms: number;
  create_p99_ms: number;
  first_step_p50_ms: number;
  step_overhead_p50_ms: number;
  callback_p50_ms: number;
  ceiling_runs_per_s: number;
  peak_rss_mb: number;
  nats_msgs_per_run_1step: number;
}

export interface BenchOutcome {
  figures: Figures;
  failures: string[];
  notes: string[];
  phases: PhaseStats[];
  ceiling: CeilingResult[];
  services: Record<string, { peak_rss_mb: number; warnings: number }>;
  warningSamples: string[];
  profiles: ProfileSummary[];
  profileDir: string | null;
  timeline: Timeline;
  phaseBands: PhaseBand[];
  machine: Record<string, string | number>;
  bench: Record<string, number>;
  startedAt: Date;
  durationS: number;
  stepsSample: Record<string, number[]>;
}

export async function runBench(config: BenchConfig, cleanup: Cleanup, interrupted: () => boolean): Promise<BenchOutcome> {
  const startedAt = new Date();
  const [loadAtStart] = loadavg();
  const stack = await startStack(config, cleanup);
  const http = new HttpJsonClient(stack.baseUrl);
  cleanup.add('http client', () => http.close());

  const tracker = new RunTracker();
  stack.model.onRequest = (request) => tracker.onModelRequest(request);
  stack.model.onResponseComplete = (request, completedAtMs) => tracker.onModelResponse(request, completedAtMs);
  const tap = new EventTap();
  tap.start(stack.nc);
  cleanup.add('event tap', () => tap.stop());

  const serviceTargets = (): SampleTarget[] => stack.services.map((service) => ({ name: service.name, pid: service.pid }));
  const cpuTargets = (): SampleTarget[] => [...serviceTargets(), { name: 'nats-server', pid: stack.nats.process.pid }];
  const sampler = new ProcessSampler(serviceTargets, 250);
  sampler.start();
  cleanup.add('memory sampler', () => sampler.stop());
  const backlog = new ConsumerBacklogSampler(stack.jsm);
  backlog.start();
  cleanup.add('consumer sampler', () => backlog.stop());
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const stopped = () => interrupted() || sampler.gone.size > 0;
  const context: LoadContext = { http, sink: stack.sink, tracker, callbackUrl: stack.sink.url(), stopped };
  // Postgres work is counted for the backends of the bench's database (the server may be shared).
  const monitor = new Client({ connectionString: stack.database.url, application_name: 'bench-monitor' });
  await monitor.connect();
  cleanup.add('monitor connection', () => monitor.end());
  const backendPids = async (): Promise<number[]> =>
    (await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map(
      (row) => row.pid,
    );
  const snapshot = async (): Promise<WindowProbe> => ({
    cpu: cpuSnapshot(nowMs(), cpuTargets(), { postgres: await backendPids() }),
    db: await databaseCounters(monitor),
    nats: await readConnectionCounts(stack.natsMonitorUrl),
  });

  const definitions: PhaseDefinition[] = [
    { name: 'closed_1step', kind: 'closed', shape: 1 },
    { name: 'closed_3step', kind: 'closed', shape: 3 },
    { name: `open_${config.openRate}rps`, kind: 'open', shape: 1 },
  ];
  const phases: PhaseRecord[] = [];
  const notes: string[] = [];
  const benchCpuFrom = process.cpuUsage();

  for (const definition of definitions) {
    if (stopped()) break;
    progress(`${definition.name}: creating ${config.agents} agents`);
    const agents = await createAgents(http, config.agents, definition.name);
    const messagesBefore = await streamMessages(stack.jsm);
    const firstRun = tracker.runs.length;
    let record: PhaseRecord;
    if (definition.kind === 'closed') {
      const warmupMs = config.warmupS * 1000;
      progress(`${definition.name}: ${config.concurrency} closed-loop clients, ${config.warmupS} s warm-up + ${config.durationS} s window`);
      const cpuAtWindowStart = after(warmupMs, snapshot);
      const window = await closedLoop(context, {
        phase: definition.name,
        agents,
        concurrency: config.concurrency,
        shape: definition.shape,
        warmupMs,
        durationMs: config.durationS * 1000,
      });
      const [from, to] = [await cpuAtWindowStart, await snapshot()];
      record = {
        definition,
        ...window,
        drainedAtMs: NaN,
        streamMessages: null,
        ...windowDeltas(from, to),
        scheduleLagMs: [],
        offeredRate: null,
      };
    } else {
      progress(`${definition.name}: open loop at ${config.openRate} runs/s for ${config.openDurationS} s`);
      const cpuAtWindowStart = after(config.openWarmupS * 1000, snapshot);
      const open = await openLoop(context, {
        phase: definition.name,
        agents,
        rate: config.openRate,
        durationMs: config.openDurationS * 1000,
        shape: definition.shape,
        maxUnfinished: Math.round(config.openRate * config.openMaxBacklogS),
      });
      if (open.stoppedEarlyAtMs !== null) {
        notes.push(
          `${definition.name}: the server fell ${config.openMaxBacklogS} s of offered load behind, so the open loop stopped after ` +
            `${round((open.stoppedEarlyAtMs - open.startMs) / 1000, 1)} s instead of ${config.openDurationS} s (${open.sent} runs sent); ` +
            `it cannot sustain ${config.openRate} runs/s`,
        );
      }
      const [from, to] = [await cpuAtWindowStart, await snapshot()];
      record = {
        definition,
        startMs: open.startMs,
        windowStartMs: open.startMs + config.openWarmupS * 1000,
        windowEndMs: open.endMs,
        drainedAtMs: NaN,
        streamMessages: null,
        ...windowDeltas(from, to),
        scheduleLagMs: open.scheduleLagMs,
        offeredRate: config.openRate,
      };
    }
    const runs = tracker.runs.slice(firstRun);
    const last = definition === definitions[definitions.length - 1];
    // The open loop may leave a backlog; wait as long as callbacks keep coming, within a cap.
    const capS = last ? (config.quick ? 90 : 900) : config.quick ? 30 : 120;
    progress(`${definition.name}: ${runs.length} runs sent; waiting for their callbacks (gives up after ${config.stragglerTimeoutS} s without one, or ${capS} s)`);
    const drained = await drain(runs, stack, config.stragglerTimeoutS * 1000, capS * 1000, stopped);
    record.drainedAtMs = nowMs();
    if (drained && (await quiesce(runs, tap, stack.jsm, stopped))) {
      record.streamMessages = (await streamMessages(stack.jsm)) - messagesBefore;
    } else {
      notes.push(`${definition.name}: not every run had finished when the phase was counted; its events per run are not measured`);
    }
    phases.push(record);
  }

  // Late duplicates would arrive shortly after the originals.
  if (!stopped()) await sleep(2_000);
  loopDelay.disable();
  const benchCpu = process.cpuUsage(benchCpuFrom);

  const stepsSample = await sampleSteps(http, tracker.runs, definitions);
  const databaseStatuses = await runStatuses(stack.database.url).catch((error: unknown) => ({ error: errorMessage(error) }));
  const natsVersion = stack.nc.info?.version ?? 'unknown';
  const postgresVersion = await serverVersion(stack.database.url).catch(() => 'unknown');

  backlog.stop();
  sampler.stop();
  sampler.sample();
  const gone = [...sampler.gone];
  progress('stopping services');
  await cleanup.runNow('event tap');
  await cleanup.runNow('services');
  const profiles = stack.profileDir ? summarizeProfiles(stack.profileDir, config.profile) : [];

  const phaseResults = phases.map((phase) =>
    phaseStats(
      phase,
      tracker.runs.filter((run) => run.phase === phase.definition.name),
      stack.sink,
      tap,
      backlog.samples,
    ),
  );
  const byName = new Map(phaseResults.map((phase) => [phase.name, phase]));
  const oneStep = byName.get('closed_1step');
  const threeStep = byName.get('closed_3step');
  const open = byName.get(definitions[2].name);

  const ceiling: CeilingResult[] = [];
  const ceilingFailures: string[] = [];
  if (config.ceiling && !interrupted()) {
    const shapes: { shape: string; runs: number; events: number | null; bytes: number | null; fallback: number }[] = [
      { shape: '1step', runs: config.ceilingRuns, events: oneStep?.events_per_run ?? null, bytes: oneStep?.event_bytes_avg ?? null, fallback: 6 },
      {
        shape: '3step',
        runs: Math.max(10, Math.round(config.ceilingRuns / 2)),
        events: threeStep?.events_per_run ?? null,
        bytes: threeStep?.event_bytes_avg ?? null,
        fallback: 10,
      },
    ];
    for (const shape of shapes) {
      if (interrupted()) break;
      const eventsPerRun = shape.events === null ? shape.fallback : Math.max(1, Math.round(shape.events));
      if (shape.events === null) notes.push(`ceiling ${shape.shape}: events per run not measured in the pipeline; assumed ${shape.fallback}`);
      const payloadBytes = Math.round(shape.bytes ?? 600);
      progress(`ceiling ${shape.shape}: ${shape.runs} runs x ${eventsPerRun} events of ~${payloadBytes} B, 4 consumers, Postgres writes`);
      try {
        ceiling.push(
          await measureCeiling(stack.nc, stack.jsm, {
            natsUrl: stack.nats.url,
            databaseUrl: stack.database.url,
            shape: shape.shape,
            runs: shape.runs,
            eventsPerRun,
            payloadBytes,
            concurrency: config.concurrency,
          }),
        );
      } catch (error) {
        ceilingFailures.push(`ceiling ${shape.shape} could not be measured: ${errorMessage(error)}`);
      }
    }
  }

  if (loadAtStart > cpus().length * 0.5) {
    notes.push(`the machine was already busy when the bench started (1-minute load average ${round(loadAtStart, 2)} on ${cpus().length} cores); see "other" CPU`);
  }
  const failures = [...correctnessFailures(tracker, stack, phaseResults, stepsSample, databaseStatuses, gone), ...ceilingFailures];
  const refused = tracker.runs.filter((run) => run.createErrorKind === 'connection');
  if (refused.length > 0) {
    notes.push(
      `${refused.length} POST .../messages/async never reached the gateway: their connections were reset or refused ` +
        `(the gateway could not accept connections fast enough), e.g. ${refused.slice(0, 2).map((run) => run.createError).join(' | ')}`,
    );
  }
  const shed = tracker.runs.filter((run) => run.createErrorKind === 'shed');
  if (shed.length > 0) notes.push(`${shed.length} POST .../messages/async were shed by admission control (503 + Retry-After, nothing created)`);
  const warnings = [...stack.logs.warnings.values()].reduce((sum, n) => sum + n, 0);
  if (warnings > 0) notes.push(`services logged ${warnings} WARN/ERROR lines, e.g.: ${stack.logs.warningSamples.slice(0, 3).join(' || ')}`);
  if (tracker.unmatchedModelRequests > 0) notes.push(`${tracker.unmatchedModelRequests} model requests carried no known run marker`);
  if (threeStep && Math.abs(threeStep.model_requests_per_run - 3) > 0.01) {
    notes.push(`closed_3step: ${round(threeStep.model_requests_per_run, 2)} model requests per run instead of 3`);
  }

  const peakRssKb = Math.max(0, ...sampler.peakRssKb.values());
  const services: BenchOutcome['services'] = {};
  for (const service of stack.services) {
    services[service.name] = {
      peak_rss_mb: round((sampler.peakRssKb.get(service.name) ?? 0) / 1024, 1),
      warnings: stack.logs.warnings.get(service.name) ?? 0,
    };
  }
  const firstPhaseStart = phases[0]?.startMs ?? nowMs();
  const lastDrain = phases[phases.length - 1]?.drainedAtMs ?? nowMs();
  const figures: Figures = {
    runs_per_s: figure(oneStep?.runs_per_s, 1),
    runs_per_s_3step: figure(threeStep?.runs_per_s, 1),
    create_p50_ms: figure(open?.create_ms.p50, 2),
    create_p99_ms: figure(open?.create_ms.p99, 2),
    first_step_p50_ms: figure(open?.first_step_ms.p50, 2),
    step_overhead_p50_ms: figure(threeStep?.step_overhead_ms.p50, 2),
    callback_p50_ms: figure(open?.callback_ms.p50, 2),
    ceiling_runs_per_s: figure(ceiling.find((result) => result.shape === '1step')?.runs_per_s, 1),
    peak_rss_mb: round(peakRssKb / 1024, 1),
    nats_msgs_per_run_1step: figure(oneStep?.nats_msgs_per_run?.total, 1),
  };
  const cpuList = cpus();
  return {
    figures,
    failures,
    notes,
    phases: phaseResults,
    ceiling,
    services,
    warningSamples: stack.logs.warningSamples,
    profiles,
    profileDir: stack.profileDir,
    timeline: timeline(tracker.runs, stack.sink, firstPhaseStart, lastDrain),
    phaseBands: phaseBands(phases, firstPhaseStart),
    machine: {
      cpu_model: cpuList[0]?.model ?? 'unknown',
      cores: cpuList.length,
      memory_mb: Math.round(totalmem() / 1024 / 1024),
      kernel: release(),
      load_average_at_start: round(loadAtStart, 2),
      node: process.version,
      nats_server: natsVersion,
      postgres: postgresVersion,
    },
    bench: {
      cpu_s: round((benchCpu.user + benchCpu.system) / 1e6, 2),
      event_loop_delay_p99_ms: round(loopDelay.percentile(99) / 1e6, 2),
      event_loop_delay_max_ms: round(loopDelay.max / 1e6, 2),
      nats_events_seen: tap.totalEvents,
      callbacks_received: stack.sink.total,
      stale_socket_retries: http.staleSocketRetries,
    },
    startedAt,
    durationS: round((Date.now() - startedAt.getTime()) / 1000, 1),
    stepsSample,
  };
}

interface WindowProbe {
  cpu: CpuSnapshot;
  db: Record<string, number>;
  nats: ConnectionCounts;
}

/** What the processes did between the probes at the start and the end of a measurement window. */
function windowDeltas(from: WindowProbe, to: WindowProbe): Pick<PhaseRecord, 'cpuCores' | 'database' | 'natsMessages'> {
  return { cpuCores: coresBetween(from.cpu, to.cpu), database: counterDeltas(from.db, to.db), natsMessages: messagesBetween(from.nats, to.nats) };
}

/** Cumulative activity of the bench database (pg_stat_database; flushed by backends about once a second). */
async function databaseCounters(client: Client): Promise<Record<string, number>> {
  const result = await client.query<Record<string, string>>(
    `SELECT xact_commit + xact_rollback AS transactions, tup_returned AS rows_scanned, tup_fetched AS rows_fetched,
            tup_inserted + tup_updated + tup_deleted AS rows_written
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  return Object.fromEntries(Object.entries(result.rows[0] ?? {}).map(([key, value]) => [key, Number(value)]));
}

function counterDeltas(from: Record<string, number>, to: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(to).map(([key, value]) => [key, value - (from[key] ?? 0)]));
}

function figure(value: number | undefined, digits: number): number {
  return value === undefined || !Number.isFinite(value) ? -1 : round(value, digits);
}

/** `take()` after `ms`; a failure surfaces where the result is awaited. */
function after<T>(ms: number, take: () => Promise<T>): Promise<T> {
  const result = new Promise<T>((resolve, reject) => setTimeout(() => take().then(resolve, reject), ms));
  result.catch(() => undefined);
  return result;
}

async function streamMessages(jsm: JetStreamManager): Promise<number> {
  return (await jsm.streams.info(RUN_EVENTS_STREAM)).state.messages;
}

/**
 * Waits until every created run of the list has delivered its callback: gives up when none has
 * arrived for `stallMs`, or after `capMs` in all.
 */
async function drain(runs: RunRecord[], stack: BenchStack, stallMs: number, capMs: number, stopped: () => boolean): Promise<boolean> {
  const startMs = nowMs();
  let progressAtMs = startMs;
  let waiting = runs.filter((run) => run.runId !== null && !stack.sink.byRunId.has(run.runId));
  while (waiting.length > 0 && !stopped()) {
    const now = nowMs();
    if (now - progressAtMs > stallMs || now - startMs > capMs) break;
    await sleep(100);
    const before = waiting.length;
    waiting = waiting.filter((run) => !stack.sink.byRunId.has(run.runId!));
    if (waiting.length < before) progressAtMs = nowMs();
  }
  return waiting.length === 0;
}

/**
 * After the callbacks: waits for each run's CallbackAttempted (appended after the delivery) and
 * for the stream to stop growing, so a stream message count belongs to this phase alone.
 */
async function quiesce(runs: RunRecord[], tap: EventTap, jsm: JetStreamManager, stopped: () => boolean): Promise<boolean> {
  const deadline = nowMs() + 10_000;
  const created = runs.filter((run) => run.runId !== null);
  while (!stopped() && nowMs() < deadline) {
    const missing = created.some((run) => (tap.byRunId.get(run.runId!)?.callbackAttempted ?? 0) === 0);
    if (!missing) break;
    await sleep(50);
  }
  let previous = await streamMessages(jsm);
  while (!stopped() && nowMs() < deadline) {
    await sleep(250);
    const current = await streamMessages(jsm);
    if (current === previous) return true;
    previous = current;
  }
  return false;
}

/** Steps per run from GET /v1/runs/{id}/steps for a few completed runs of each closed-loop phase. */
async function sampleSteps(http: HttpJsonClient, runs: RunRecord[], definitions: PhaseDefinition[]): Promise<Record<string, number[]>> {
  const sample: Record<string, number[]> = {};
  for (const definition of definitions.filter((d) => d.kind === 'closed')) {
    const candidates = runs.filter((run) => run.phase === definition.name && run.runId !== null);
    const count = Math.min(10, candidates.length);
    const picked = Array.from({ length: count }, (_, index) => candidates[Math.floor((index * candidates.length) / count)]);
    sample[definition.name] = await mapLimit(picked, 5, async (run) => {
      try {
        const response = await http.get(`/v1/runs/${run.runId}/steps`);
        const steps = JSON.parse(response.body) as unknown;
        return Array.isArray(steps) ? steps.length : -1;
      } catch {
        return -1;
      }
    });
  }
  return sample;
}

async function runStatuses(databaseUrl: string): Promise<Record<string, number>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM runs GROUP BY status');
    return Object.fromEntries(result.rows.map((row) => [row.status, row.n]));
  } finally {
    await client.end();
  }
}

async function serverVersion(databaseUrl: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
}

function correctnessFailures(
  tracker: RunTracker,
  stack: BenchStack,
  phases: PhaseStats[],
  stepsSample: Record<string, number[]>,
  databaseStatuses: Record<string, number> | { error: string },
  gone: string[],
): string[] {
  const failures: string[] = [];
  const examples = (runs: RunRecord[]) => runs.slice(0, 3).map((run) => run.runId ?? run.marker).join(', ');
  for (const service of gone) failures.push(`service ${service} exited during the bench`);

  // Connection-level refusals never reached the gateway; the read-model count below proves that
  // none of them became a run. Anything else (HTTP errors, timeouts) is a failure.
  const createFailed = tracker.runs.filter((run) => run.createErrorKind === 'other');
  if (createFailed.length > 0) {
    failures.push(`${createFailed.length} POST .../messages/async failed, e.g. ${createFailed.slice(0, 3).map((run) => run.createError).join(' | ')}`);
  }
  const created = tracker.runs.filter((run) => run.runId !== null);
  const missing = created.filter((run) => !stack.sink.byRunId.has(run.runId!));
  if (missing.length > 0) failures.push(`${missing.length} of ${created.length} runs never delivered their callback, e.g. ${examples(missing)}`);
  const duplicated = created.filter((run) => (stack.sink.byRunId.get(run.runId!)?.count ?? 0) > 1);
  if (duplicated.length > 0) failures.push(`${duplicated.length} runs delivered their callback more than once, e.g. ${examples(duplicated)}`);
  const notCompleted = created.filter((run) => {
    const callback = stack.sink.byRunId.get(run.runId!);
    return callback !== undefined && callback.status !== 'completed';
  });
  if (notCompleted.length > 0) {
    const byStatus = new Map<string, number>();
    for (const run of notCompleted) {
      const status = `${run.phase}:${stack.sink.byRunId.get(run.runId!)!.status}`;
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    }
    failures.push(`${notCompleted.length} runs did not end completed (${[...byStatus].map(([status, n]) => `${status} x${n}`).join(', ')}), e.g. ${examples(notCompleted)}`);
  }
  const ours = new Set(created.map((run) => run.runId!));
  const foreign = [...stack.sink.byRunId.keys()].filter((runId) => !ours.has(runId)).length + stack.sink.unattributed;
  if (foreign > 0) failures.push(`${foreign} callbacks arrived for runs the bench did not create`);

  if ('error' in databaseStatuses) failures.push(`could not read run statuses from the read model: ${databaseStatuses.error}`);
  else {
    const total = Object.values(databaseStatuses).reduce((sum, n) => sum + Number(n), 0);
    const completed = databaseStatuses.completed ?? 0;
    if (total !== created.length || completed !== total) {
      failures.push(`read model has ${total} runs (${JSON.stringify(databaseStatuses)}), expected ${created.length} all completed`);
    }
  }

  for (const [phase, expected] of [
    ['closed_1step', 1],
    ['closed_3step', 3],
  ] as const) {
    const counts = stepsSample[phase] ?? [];
    const wrong = counts.filter((count) => count !== expected);
    if (counts.length > 0 && wrong.length > 0) {
      failures.push(
        `${phase}: GET /v1/runs/{id}/steps gave [${counts.join(', ')}] steps on a sample of runs, expected ${expected} each` +
          (expected === 3 ? ' (does the llm-worker turn an unknown tool call into an error tool return and continue the loop?)' : ''),
      );
    }
  }
  for (const phase of phases) {
    if (phase.runs_created === 0) failures.push(`${phase.name}: no run was created`);
  }
  return failures;
}
