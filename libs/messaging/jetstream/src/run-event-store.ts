import { createHash } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, MsgRequest } from '@nats-io/jetstream';

type ReadQuery = { seq: number } | { last_by_subj: string } | { seq: number; next_by_subj: string };
type PositionQuery = Exclude<ReadQuery, { last_by_subj: string }>;
import {
  EVENT_DIGEST_HEADER,
  EVENT_TYPE_HEADER,
  RUN_EVENTS_STREAM,
  TRACEPARENT_HEADER,
  buildRunEvent,
  decodeRunEventMessage,
  runSubject,
  type AnyRunEvent,
  type RunEvent,
  type RunEventDraft,
} from '@lrs/contracts';
import type { EventPayloads, StoredEventJson } from './event-payloads';
import { publishAtPosition } from './publish-at-position';
import { BoundedMemory } from './bounded-memory';

/** Thrown when an append lost an optimistic-concurrency race: someone else moved the run first. */
export class ConcurrencyConflict extends Error {
  constructor(runId: string, expectedStreamSeq: number) {
    super(`run ${runId} moved past stream sequence ${expectedStreamSeq}`);
  }
}

/**
 * A run's next position is held by a write that did not complete: JetStream remembers the id of a
 * message its lost leader was writing, for the stream's duplicate window, though the message was
 * never stored. Not a conflict (no other event won): the caller fails and its message is retried,
 * and the append goes through once the window has passed.
 */
export class PositionInDoubt extends Error {
  constructor(runId: string, seq: number) {
    super(`event #${seq} of run ${runId} is held by an unfinished write; retrying after the duplicate window`);
  }
}

/**
 * A read answered with an older state of a run than the caller already holds (an event it is
 * handling, or a lane entry): on a replicated stream, a consumer on a follower can hand out an
 * event before the stream leader, which answers reads, has stored it. Not an answer to act on:
 * the caller fails and its message is retried.
 */
export class StaleRead extends Error {
  constructor(runId: string, atLeastStreamSeq: number, got: number | null) {
    super(`run ${runId}: the latest event read is ${got === null ? 'none' : `at stream sequence ${got}`}, older than ${atLeastStreamSeq} which the caller holds`);
  }
}

/** The latest event read, checked against what the caller holds (see StaleRead). */
export function notOlderThan(runId: string, latest: StoredRunEvent | null, atLeastStreamSeq: number): StoredRunEvent | null {
  if ((latest?.streamSeq ?? 0) < atLeastStreamSeq) throw new StaleRead(runId, atLeastStreamSeq, latest?.streamSeq ?? null);
  return latest;
}

/**
 * The server refused an append as behind the run, but the run has no event after the one the
 * append was behind: no other writer won. Retried, as a read that has not caught up is.
 */
export class UnconfirmedConflict extends Error {
  constructor(runId: string, expectedStreamSeq: number) {
    super(`run ${runId}: append refused as behind the run, yet nothing follows stream sequence ${expectedStreamSeq}; retrying`);
  }
}

/** A run event together with its position in the RUN_EVENTS stream. */
export interface StoredRunEvent {
  event: AnyRunEvent;
  streamSeq: number;
}

/** Where the run's RunCreated is stored, as far as this event knows (events carry it along). */
export function createdStreamSeqOf(stored: StoredRunEvent): number | undefined {
  if (stored.event.type === 'RunCreated') return stored.streamSeq;
  const data = stored.event.data as { createdStreamSeq?: number };
  return data.createdStreamSeq;
}

/**
 * The event a message of RUN_EVENTS holds, through the contract's decoder (parsed, envelope
 * checked, upcast, validated); a claimed event still lacks its data. Throws InvalidRunEvent for a
 * message no retry can read, which the consumer runner dead-letters at once.
 */
export function decodeRunEvent(data: Uint8Array): AnyRunEvent {
  return decodeRunEventMessage(data);
}

/**
 * What the run path needs of the event log: the JetStream RunEventStore, or the in-memory one
 * unit tests use (libs/testing); both pass the same contract tests.
 */
export interface RunEventLog {
  /**
   * The run's latest event, or null for an unknown run. A caller that holds one of the run's
   * events passes its position: an older answer throws StaleRead instead of being returned.
   */
  latest(runId: string, atLeastStreamSeq?: number): Promise<StoredRunEvent | null>;
  /** Appends drafts behind `after`, each conditional on the previous being the latest; throws ConcurrencyConflict when it is not. */
  appendAfter(after: StoredRunEvent, drafts: RunEventDraft[]): Promise<StoredRunEvent[]>;
  /** Appends a run's first event; throws ConcurrencyConflict if the run exists (or the same event was stored before). */
  create(event: RunEvent<'RunCreated'>): Promise<number>;
  /** The event stored at a stream sequence, or null. */
  at(streamSeq: number): Promise<StoredRunEvent | null>;
  /** The run's first event stored at or after `fromStreamSeq`, or null. */
  nextOf(runId: string, fromStreamSeq: number): Promise<StoredRunEvent | null>;
  /** The run's RunCreated (read at `createdStreamSeq` when known), or null. */
  createdOf(runId: string, createdStreamSeq?: number): Promise<RunEvent<'RunCreated'> | null>;
}

const CREATED_CACHE_SIZE = 4_096;

/** What an event says, apart from where it stands: two writers' events at one position differ in it. */
export function eventDigest(event: Pick<AnyRunEvent, 'type' | 'data'>): string {
  return createHash('sha1').update(event.type).update(JSON.stringify(event.data)).digest('hex').slice(0, 16);
}

/** The event a draft becomes behind `previous`: the next per-run sequence and the run's envelope. */
export function eventAfter(previous: AnyRunEvent, draft: RunEventDraft): AnyRunEvent {
  const { runId, organizationId, agentId, laneId, traceparent } = previous;
  return buildRunEvent({ runId, seq: previous.seq + 1, organizationId, agentId, laneId, traceparent }, draft.type, draft.data) as AnyRunEvent;
}

/**
 * The run event log: one JetStream subject per run. An append names the run's position as the
 * expected last subject sequence and as the message id (`evt:<runId>:<seq>`, publishAtPosition),
 * so exactly one writer moves a run forward from a given event, also on a cluster, and a retried
 * publish is recognised as the same event by its digest.
 */
export class RunEventStore implements RunEventLog {
  /** RunCreated events recently read: every step of a run needs its own, and it never changes. */
  private readonly createdCache = new BoundedMemory<string, RunEvent<'RunCreated'>>(CREATED_CACHE_SIZE);

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    /** Where payloads too large for a NATS message go (claim check); without it such events cannot be stored or read. */
    private readonly payloads: EventPayloads | null = null,
  ) {}

  /** The event a stored message holds, its claimed payload fetched if it has one. */
  decode(data: Uint8Array): Promise<AnyRunEvent> {
    return this.resolve(decodeRunEvent(data));
  }

  /** The event as a message of the log carries it: its JSON, or with a claim on its payload once that is stored (a large one). */
  encode(event: AnyRunEvent): Promise<string> {
    return this.payloads ? this.payloads.encode(event) : Promise.resolve(JSON.stringify(event));
  }

  /** The event with its data, fetched from the payload store if it carries a claim instead. */
  async resolve(event: AnyRunEvent): Promise<AnyRunEvent> {
    const stored = event as StoredEventJson;
    if (!stored.claim) return stored;
    if (!this.payloads) throw new Error(`${stored.type} #${stored.seq} of ${stored.runId} has a claimed payload and no payload store is configured`);
    return this.payloads.resolve(stored);
  }

  /**
   * Appends a run's first event; fails with ConcurrencyConflict if the run already exists, also
   * when JetStream recognises the event id within its duplicate window (the run may have been
   * deleted since: it must not be handed out as new).
   */
  async create(event: RunEvent<'RunCreated'>): Promise<number> {
    return this.publish(event, 0, true);
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
      const event = eventAfter(previous.event, draft);
      const streamSeq = await this.publish(event, previous.streamSeq);
      previous = { event, streamSeq };
      stored.push(previous);
    }
    return stored;
  }

  /** The run's latest event, read from the stream leader (no consumer needed). */
  async latest(runId: string, atLeastStreamSeq = 0): Promise<StoredRunEvent | null> {
    return notOlderThan(runId, await this.leaderGet({ last_by_subj: runSubject(runId) }), atLeastStreamSeq);
  }

  /** The event stored at a stream sequence (one read), or null if there is none. */
  async at(streamSeq: number): Promise<StoredRunEvent | null> {
    return this.leaderGet({ seq: streamSeq });
  }

  /**
   * The run's RunCreated: from this process's cache, else one read at the stream position
   * that events carry (or, for events written before they carried it, the run's first message).
   */
  async createdOf(runId: string, createdStreamSeq?: number): Promise<RunEvent<'RunCreated'> | null> {
    const cached = this.createdCache.get(runId);
    if (cached) return cached;
    const stored = createdStreamSeq ? await this.at(createdStreamSeq) : await this.nextOf(runId, 1);
    if (!stored || stored.event.type !== 'RunCreated' || stored.event.runId !== runId) return null;
    this.createdCache.set(runId, stored.event);
    return stored.event;
  }

  /** The run's first event stored at or after `fromStreamSeq` (one read on the run's subject). */
  async nextOf(runId: string, fromStreamSeq: number): Promise<StoredRunEvent | null> {
    return this.leaderGet({ seq: Math.max(1, fromStreamSeq), next_by_subj: runSubject(runId) });
  }

  /**
   * The run's events from its RunCreated (at `createdStreamSeq`, when known) through `until`,
   * one read each: no consumer is created, so this is cheap for the few events of a run.
   * A RunCreated the caller already holds is not read again. Without the RunCreated's position,
   * the run is read through an ordered consumer instead.
   */
  async readRun(runId: string, until: StoredRunEvent, createdStreamSeq?: number, created?: RunEvent<'RunCreated'> | null): Promise<AnyRunEvent[]> {
    if (!createdStreamSeq) return (await this.history(runId)).filter((event) => event.seq <= until.event.seq);
    if (!created) return this.between(runId, createdStreamSeq, until);
    return [created, ...(await this.between(runId, createdStreamSeq + 1, until))];
  }

  /**
   * The run's events stored from `fromStreamSeq` up to `until` (included), one read each, at
   * most `limit` of them before `until`.
   */
  async between(runId: string, fromStreamSeq: number, until: StoredRunEvent, limit = Number.POSITIVE_INFINITY): Promise<AnyRunEvent[]> {
    const events: AnyRunEvent[] = [];
    let cursor = fromStreamSeq;
    while (cursor < until.streamSeq && events.length < limit) {
      const next = await this.nextOf(runId, cursor);
      if (!next || next.streamSeq >= until.streamSeq) break;
      events.push(next.event);
      cursor = next.streamSeq + 1;
    }
    events.push(until.event);
    return events;
  }

  /** The stream sequence of the newest event in the log (0 when it is empty). */
  async lastStreamSeq(): Promise<number> {
    const info = await this.jsm.streams.info(RUN_EVENTS_STREAM);
    return info.state.last_seq;
  }

  /** Every event in the log from the first through `untilStreamSeq`, in stream order (an ordered consumer). */
  async *readAll(untilStreamSeq: number): AsyncIterable<StoredRunEvent> {
    if (untilStreamSeq <= 0) return;
    const consumer = await this.js.consumers.get(RUN_EVENTS_STREAM);
    const messages = await consumer.consume({ max_messages: 1_000 });
    try {
      for await (const message of messages) {
        if (message.seq > untilStreamSeq) break;
        yield { event: await this.decode(message.data), streamSeq: message.seq };
        if (message.seq >= untilStreamSeq) break;
      }
    } finally {
      await messages.close();
    }
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
    const decode = (data: Uint8Array) => this.decode(data);
    async function* events(): AsyncIterable<StoredRunEvent> {
      for await (const message of messages) yield { event: await decode(message.data), streamSeq: message.seq };
    }
    return { events: events(), close: async () => void (await messages.close()) };
  }

  /**
   * One message, read from the stream leader. Not a direct get: on a replicated stream any replica
   * answers those, and a replica that lags shows a run as it was (an older latest event, or none),
   * which a handler takes for a run that moved on or does not exist.
   */
  private async leaderGet(query: ReadQuery): Promise<StoredRunEvent | null> {
    // The leader's message-get takes `next_by_subj` too (nats-server 2.9), which the client's type leaves out.
    const message = await this.jsm.streams.getMessage(RUN_EVENTS_STREAM, query as MsgRequest);
    return message ? { event: await this.decode(message.data), streamSeq: message.seq } : null;
  }

  private async publish(event: AnyRunEvent, expectedLastSubjectSeq: number, duplicateIsConflict = false): Promise<number> {
    const digest = eventDigest(event);
    const hdrs = headers();
    hdrs.set(EVENT_TYPE_HEADER, event.type);
    hdrs.set(EVENT_DIGEST_HEADER, digest);
    if (event.traceparent) hdrs.set(TRACEPARENT_HEADER, event.traceparent);
    const json = await this.encode(event);
    const result = await publishAtPosition(this.js, runSubject(event.runId), json, { msgID: event.id, lastSubjectSequence: expectedLastSubjectSeq, headers: hdrs });
    if (result.kind === 'stored') return result.seq;
    if (duplicateIsConflict) throw new ConcurrencyConflict(event.runId, expectedLastSubjectSeq);
    if (result.kind === 'duplicate') {
      // The position is taken: by this very event (a publish retried after its answer was lost),
      // or by another writer's, which won the race; or it is held by a write that never completed,
      // which no reader can see: neither a win nor a loss, and the caller retries until the
      // duplicate window ends.
      const stored = await this.storedDigest({ seq: result.seq });
      if (stored?.digest === digest) return result.seq;
      if (!stored) throw new PositionInDoubt(event.runId, event.seq);
      throw new ConcurrencyConflict(event.runId, expectedLastSubjectSeq);
    }
    // Refused: the server says the run moved past the expected event. The run's next message is
    // at this event's position: if it is this event, our own earlier publish went through; if it
    // is another, the race is lost. If there is none, no writer moved the run: the stream leader
    // has not yet stored an event that a consumer on a follower already handed out, and the
    // append came right behind it (docs/scaling.md). That is retried, never taken for a lost race,
    // which would drop the decision and leave the run waiting for ever.
    const next = await this.storedDigest({ seq: expectedLastSubjectSeq + 1, next_by_subj: runSubject(event.runId) });
    if (next?.digest === digest) return next.streamSeq;
    if (!next) throw new UnconfirmedConflict(event.runId, expectedLastSubjectSeq);
    throw new ConcurrencyConflict(event.runId, expectedLastSubjectSeq);
  }

  /** The digest header and position of a stored message, read from the stream leader as `leaderGet` reads; null when there is none. */
  private async storedDigest(query: PositionQuery): Promise<{ digest: string | undefined; streamSeq: number } | null> {
    // A stream sequence of 0 (a duplicate whose write never completed) names no message.
    if (query.seq <= 0) return null;
    const message = await this.jsm.streams.getMessage(RUN_EVENTS_STREAM, query as MsgRequest);
    return message ? { digest: message.header.get(EVENT_DIGEST_HEADER), streamSeq: message.seq } : null;
  }
}
