import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { EVENT_TYPE_HEADER, RUN_EVENTS_SUBJECTS } from '@lrs/contracts';
import type { RecordedRequest } from '@lrs/fake-model';
import { nowMs } from './util';

/** One run the bench asked for, from the POST to its last model response. */
export interface RunRecord {
  /** Unique token in the input text; the fake model's requests are matched to runs by it. */
  marker: string;
  phase: string;
  agentId: string;
  sentAtMs: number;
  /** When the create response was fully read (NaN until then). */
  respondedAtMs: number;
  createStatus: number;
  createError: string | null;
  /**
   * `connection`: the connection failed before any answer on a fresh socket (e.g. the server's
   * accept queue overflowed and the kernel reset it): the request never reached the gateway.
   * `shed`: 503 or 429 from the gateway's admission control (over its bound of work in flight).
   * `other`: an HTTP error or a timeout, whose outcome is unknown or wrong.
   */
  createErrorKind: 'connection' | 'shed' | 'other' | null;
  runId: string | null;
  /** Arrival of each model request for the run, in order. */
  modelRequestAtMs: number[];
  /** End of each model response for the run, in order. */
  modelResponseAtMs: number[];
}

const MARKER_PATTERN = /\bbm(\d+)q\b/;

/** Creates run records and attributes the fake model's traffic to them by marker. */
export class RunTracker {
  readonly runs: RunRecord[] = [];
  /** Model requests whose last user message carried no known marker. */
  unmatchedModelRequests = 0;
  private readonly byMarker = new Map<string, RunRecord>();

  newRun(phase: string, agentId: string): RunRecord {
    const marker = `bm${this.runs.length + 1}q`;
    const record: RunRecord = {
      marker,
      phase,
      agentId,
      sentAtMs: NaN,
      respondedAtMs: NaN,
      createStatus: 0,
      createError: null,
      createErrorKind: null,
      runId: null,
      modelRequestAtMs: [],
      modelResponseAtMs: [],
    };
    this.runs.push(record);
    this.byMarker.set(marker, record);
    return record;
  }

  onModelRequest(request: RecordedRequest): void {
    const record = this.recordOf(request);
    if (record) record.modelRequestAtMs.push(request.receivedAtMs);
    else this.unmatchedModelRequests++;
  }

  onModelResponse(request: RecordedRequest, completedAtMs: number): void {
    this.recordOf(request)?.modelResponseAtMs.push(completedAtMs);
  }

  private recordOf(request: RecordedRequest): RunRecord | undefined {
    const text = lastUserText(request.body);
    const match = text === null ? null : MARKER_PATTERN.exec(text);
    return match ? this.byMarker.get(`bm${match[1]}q`) : undefined;
  }
}

function lastUserText(body: unknown): string | null {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return null;
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as { role?: unknown; content?: unknown } | null;
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (!Array.isArray(message.content)) return '';
    let text = '';
    for (const part of message.content as { type?: unknown; text?: unknown }[]) {
      if (part?.type === 'text' && typeof part.text === 'string') text += part.text;
    }
    return text;
  }
  return null;
}

/** What the tap saw of one run on the event subjects. */
export interface RunEventsSeen {
  /** Events that took a new position in the run's log (the stored ones). */
  events: number;
  bytes: number;
  /** Publishes for a position already taken: lost optimistic-concurrency races and retries. */
  rejected: number;
  /** First arrival of a RunFinished publish (bench clock). */
  finishedAtMs: number;
  callbackAttempted: number;
  /** Arrival of each stored event, keyed `<type>#<n>` (n counts that type within the run from 1). */
  marks: Record<string, number>;
  /** Highest per-run sequence seen. */
  lastSeq: number;
}

const MSG_ID_HEADER = 'Nats-Msg-Id';

/**
 * A plain core subscription on the run event subjects: it sees every event the services publish
 * (JetStream publishes are ordinary publishes on the stream's subjects), which gives the exact
 * moment each run's RunFinished went out, and per-run event counts as a cross-check of the stream.
 * It also sees publishes the stream then refuses (a conditional append that lost its race); the
 * per-run sequence in the event id (`evt:<runId>:<seq>`, the Nats-Msg-Id) tells them
 * apart: the server handles publishes in order, so the first publish for a position is the one
 * that took it. Only headers are read; payloads are never decoded.
 */
export class EventTap {
  readonly byRunId = new Map<string, RunEventsSeen>();
  totalEvents = 0;
  private subscription: Subscription | null = null;

  start(nc: NatsConnection): void {
    this.subscription = nc.subscribe(RUN_EVENTS_SUBJECTS, {
      callback: (error, msg) => {
        if (error) return;
        const atMs = nowMs();
        this.totalEvents++;
        // Subjects are `runs.<runId>`.
        const runId = msg.subject.slice(5);
        let seen = this.byRunId.get(runId);
        if (!seen) {
          seen = { events: 0, bytes: 0, rejected: 0, finishedAtMs: NaN, callbackAttempted: 0, marks: {}, lastSeq: 0 };
          this.byRunId.set(runId, seen);
        }
        const seq = Number(msg.headers?.get(MSG_ID_HEADER)?.split(':')[2]);
        if (Number.isFinite(seq) && seq > 0) {
          if (seq <= seen.lastSeq) {
            seen.rejected++;
            return;
          }
          seen.lastSeq = seq;
        }
        seen.events++;
        seen.bytes += msg.data.length;
        const type = msg.headers?.get(EVENT_TYPE_HEADER) ?? 'unknown';
        let n = 1;
        while (seen.marks[`${type}#${n}`] !== undefined) n++;
        if (n <= 64) seen.marks[`${type}#${n}`] = atMs;
        if (type === 'RunFinished') {
          if (Number.isNaN(seen.finishedAtMs)) seen.finishedAtMs = atMs;
        } else if (type === 'CallbackAttempted') {
          seen.callbackAttempted++;
        }
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }
}
