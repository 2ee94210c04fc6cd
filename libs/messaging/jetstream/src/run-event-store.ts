import { createHash } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import {
  EVENT_TYPE_HEADER,
  RUN_EVENTS_STREAM,
  TRACEPARENT_HEADER,
  buildRunEvent,
  runEventId,
  runSubject,
  type AnyRunEvent,
  type RunEvent,
  type RunEventDraft,
} from '@lrs/contracts';

/** Thrown when an append lost an optimistic-concurrency race: someone else moved the run first. */
export class ConcurrencyConflict extends Error {
  constructor(runId: string, expectedStreamSeq: number) {
    super(`run ${runId} moved past stream sequence ${expectedStreamSeq}`);
  }
}

/** A run event together with its position in the RUN_EVENTS stream. */
export interface StoredRunEvent {
  event: AnyRunEvent;
  streamSeq: number;
}

export function decodeRunEvent(data: Uint8Array): AnyRunEvent {
  return JSON.parse(Buffer.from(data).toString('utf8')) as AnyRunEvent;
}

function payloadDigest(draft: RunEventDraft): string {
  return createHash('sha1').update(draft.type).update(JSON.stringify(draft.data)).digest('hex').slice(0, 16);
}

/**
 * The run event log: one JetStream subject per run, appended with the expected last subject
 * sequence so that exactly one writer can move a run forward from a given event, and with the
 * deterministic event id as Nats-Msg-Id so a retried publish is recognised as the same event.
 */
export class RunEventStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Appends a run's first event; fails with ConcurrencyConflict if the run already exists. */
  async create(event: RunEvent<'RunCreated'>): Promise<number> {
    return this.publish(event, 0);
  }

  /**
   * Appends drafts one after another behind `after`, each conditional on the previous one still
   * being the run's latest event. Returns what was stored; throws ConcurrencyConflict if the run
   * had already moved on (the caller's view was stale, and someone else has acted on it).
   */
  async appendAfter(after: StoredRunEvent, drafts: RunEventDraft[]): Promise<StoredRunEvent[]> {
    const stored: StoredRunEvent[] = [];
    let previous = after;
    for (const draft of drafts) {
      const event = buildRunEvent(
        {
          runId: previous.event.runId,
          seq: previous.event.seq + 1,
          organizationId: previous.event.organizationId,
          agentId: previous.event.agentId,
          laneId: previous.event.laneId,
          traceparent: previous.event.traceparent,
        },
        draft.type,
        draft.data,
      ) as AnyRunEvent;
      event.id = runEventId(event.runId, event.seq, payloadDigest(draft));
      const streamSeq = await this.publish(event, previous.streamSeq);
      previous = { event, streamSeq };
      stored.push(previous);
    }
    return stored;
  }

  /** The run's latest event, read directly from the stream (no consumer needed). */
  async latest(runId: string): Promise<StoredRunEvent | null> {
    const message = await this.jsm.direct.getMessage(RUN_EVENTS_STREAM, { last_by_subj: runSubject(runId) });
    if (!message) return null;
    return { event: decodeRunEvent(message.data), streamSeq: message.seq };
  }

  /** Every event the run has so far, in order (empty for an unknown run). */
  async history(runId: string): Promise<AnyRunEvent[]> {
    const latest = await this.latest(runId);
    if (!latest) return [];
    const { events, close } = await this.follow(runId);
    const seen: AnyRunEvent[] = [];
    try {
      for await (const stored of events) {
        seen.push(stored.event);
        if (stored.streamSeq >= latest.streamSeq) break;
      }
    } finally {
      await close();
    }
    return seen;
  }

  /**
   * Every event of the run, from the first, then the new ones as they are appended, through an
   * ordered consumer on the run's subject (replay and follow in one; ephemeral, no ack). The
   * caller stops it with `close()` once it has seen what it waited for.
   */
  async follow(runId: string): Promise<{ events: AsyncIterable<StoredRunEvent>; close: () => Promise<void> }> {
    const consumer = await this.js.consumers.get(RUN_EVENTS_STREAM, { filter_subjects: runSubject(runId) });
    const messages = await consumer.consume();
    async function* events(): AsyncIterable<StoredRunEvent> {
      for await (const message of messages) yield { event: decodeRunEvent(message.data), streamSeq: message.seq };
    }
    return { events: events(), close: async () => void (await messages.close()) };
  }

  private async publish(event: AnyRunEvent, expectedLastSubjectSeq: number): Promise<number> {
    const hdrs = headers();
    hdrs.set(EVENT_TYPE_HEADER, event.type);
    if (event.traceparent) hdrs.set(TRACEPARENT_HEADER, event.traceparent);
    try {
      const ack = await this.js.publish(runSubject(event.runId), JSON.stringify(event), {
        msgID: event.id,
        headers: hdrs,
        expect: { lastSubjectSequence: expectedLastSubjectSeq },
        retries: 3,
      });
      return ack.seq;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
        throw new ConcurrencyConflict(event.runId, expectedLastSubjectSeq);
      }
      throw error;
    }
  }
}
