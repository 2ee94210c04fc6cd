import type { CallbackSink } from './callback-sink';
import { HttpRequestError, type HttpJsonClient } from './http-client';
import type { RunRecord, RunTracker } from './run-tracker';
import { errorMessage, mapLimit, nowMs, sleep } from './util';

export interface LoadContext {
  http: HttpJsonClient;
  sink: CallbackSink;
  tracker: RunTracker;
  callbackUrl: string;
  /** Set on Ctrl-C or a fatal problem: stop creating runs. */
  stopped: () => boolean;
}

/** 1 model step, or 3: the fake asks for an unknown tool twice, then answers. */
export type RunShape = 1 | 3;

export function inputFor(marker: string, shape: RunShape): string {
  return shape === 1 ? `bench ${marker}` : `bench ${marker} [fake:toolsteps=2][fake:tool=bench_lookup]`;
}

export async function createAgents(http: HttpJsonClient, count: number, label: string): Promise<string[]> {
  return mapLimit(Array.from({ length: count }, (_, index) => index), 16, async (index) => {
    const body = JSON.stringify({ name: `bench-${label}-${index}`, model: 'openai/gpt-4o-mini' });
    const response = await http.post('/v1/agents', body);
    if (response.status !== 200) throw new Error(`POST /v1/agents: HTTP ${response.status} ${response.body.slice(0, 300)}`);
    return (JSON.parse(response.body) as { id: string }).id;
  });
}

/**
 * A create that gets no answer has an unknown outcome (the run may exist), so the bench waits
 * long for the answer rather than give up on it.
 */
const CREATE_TIMEOUT_MS = 600_000;
const CONNECTION_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED']);

async function createRun(context: LoadContext, record: RunRecord, shape: RunShape): Promise<void> {
  const body = JSON.stringify({ input: inputFor(record.marker, shape), callback_url: context.callbackUrl });
  record.sentAtMs = nowMs();
  try {
    const response = await context.http.post(`/v1/agents/${record.agentId}/messages/async`, body, CREATE_TIMEOUT_MS);
    record.respondedAtMs = nowMs();
    record.createStatus = response.status;
    if (response.status === 200) record.runId = (JSON.parse(response.body) as { id: string }).id;
    else {
      record.createError = `${record.phase}: HTTP ${response.status} ${response.body.slice(0, 200)}`;
      // 503/429 is the gateway's admission control shedding load: nothing was created.
      record.createErrorKind = response.status === 503 || response.status === 429 ? 'shed' : 'other';
    }
  } catch (error) {
    record.respondedAtMs = nowMs();
    record.createError = `${record.phase}, after ${Math.round(record.respondedAtMs - record.sentAtMs)} ms: ${errorMessage(error)}`;
    const connectionLevel = error instanceof HttpRequestError && !error.reusedSocket && !error.answered && CONNECTION_ERRORS.has(error.code ?? '');
    record.createErrorKind = connectionLevel ? 'connection' : 'other';
  }
}

export interface ClosedLoopOptions {
  phase: string;
  agents: string[];
  concurrency: number;
  shape: RunShape;
  warmupMs: number;
  durationMs: number;
}

export interface LoadWindow {
  startMs: number;
  windowStartMs: number;
  windowEndMs: number;
}

/**
 * Closed loop: each client owns an agent and repeatedly creates a run, then waits for that run's
 * callback before the next. Clients stop creating at the end of the window; their last runs finish
 * on their own (the caller drains them).
 */
export async function closedLoop(context: LoadContext, options: ClosedLoopOptions): Promise<LoadWindow> {
  const startMs = nowMs();
  const windowStartMs = startMs + options.warmupMs;
  const windowEndMs = windowStartMs + options.durationMs;
  const clients = options.agents.slice(0, options.concurrency).map(async (agentId) => {
    while (nowMs() < windowEndMs && !context.stopped()) {
      const record = context.tracker.newRun(options.phase, agentId);
      await createRun(context, record, options.shape);
      if (!record.runId) {
        await sleep(200);
        continue;
      }
      await context.sink.waitFor(record.runId, Math.max(1, windowEndMs - nowMs()));
    }
  });
  await Promise.all(clients);
  return { startMs, windowStartMs, windowEndMs };
}

export interface OpenLoopOptions {
  phase: string;
  agents: string[];
  rate: number;
  durationMs: number;
  shape: RunShape;
  /**
   * Safety valve for a server far below the offered rate: stop sending once this many of the
   * phase's runs are unfinished (no callback yet), so the backlog stays drainable.
   */
  maxUnfinished: number;
}

export interface OpenLoopResult {
  startMs: number;
  endMs: number;
  sent: number;
  /** How late the bench sent requests against their schedule (its own event-loop lag). */
  scheduleLagMs: number[];
  /** Set when the safety valve stopped the load before `durationMs`. */
  stoppedEarlyAtMs: number | null;
}

/**
 * Open loop: runs are created on a fixed schedule whatever the responses, agents in turn, so
 * the offered load stays at `rate` even when the server slows down.
 */
export async function openLoop(context: LoadContext, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const intervalMs = 1000 / options.rate;
  const total = Math.floor((options.rate * options.durationMs) / 1000);
  const pending = new Set<Promise<void>>();
  const scheduleLagMs: number[] = [];
  const startMs = nowMs();
  const callbacksBefore = context.sink.total;
  let sent = 0;
  let stoppedEarlyAtMs: number | null = null;
  while (sent < total && !context.stopped()) {
    const now = nowMs();
    if (sent - (context.sink.total - callbacksBefore) >= options.maxUnfinished) {
      stoppedEarlyAtMs = now;
      break;
    }
    const due = Math.min(total, Math.floor((now - startMs) / intervalMs) + 1);
    while (sent < due) {
      scheduleLagMs.push(now - (startMs + sent * intervalMs));
      const record = context.tracker.newRun(options.phase, options.agents[sent % options.agents.length]);
      const request = createRun(context, record, options.shape).finally(() => pending.delete(request));
      pending.add(request);
      sent++;
    }
    await sleep(1);
  }
  const endMs = nowMs();
  await Promise.all(pending);
  return { startMs, endMs, sent, scheduleLagMs, stoppedEarlyAtMs };
}
