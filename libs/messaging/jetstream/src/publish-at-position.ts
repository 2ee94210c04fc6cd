import type { MsgHdrs } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';

export type PublishAtPositionResult =
  /** Stored at this stream sequence. */
  | { kind: 'stored'; seq: number }
  /**
   * The position's message id was seen within the duplicate window: the message stored at `seq`
   * (the caller's own retried publish, or another writer's, which won), or, with `seq` 0, a write
   * that never completed (a stream leader lost mid-write keeps its id though nothing was stored).
   */
  | { kind: 'duplicate'; seq: number }
  /** The subject's last sequence is not the expected one. */
  | { kind: 'refused' };

/**
 * Publishes to a subject only at a position: after the subject's message at `lastSubjectSequence`
 * (0: the subject has none). The position is named twice, as the expected last subject sequence
 * and as the message id. The first alone does not serialize racing writers on a clustered stream
 * before nats-server 2.9.21: the check runs before the replicated write, so several writers in
 * flight can all pass it (docs/scaling.md). The duplicate check on the message id does, within
 * the stream's duplicate window, far longer than any race: exactly one writer takes a position.
 * Used for run events (RunEventStore) and for KV compare-and-set (ConditionalBucket); the caller
 * tells its own retried write from another writer's by what is stored at a duplicate's `seq`.
 */
export async function publishAtPosition(
  js: JetStreamClient,
  subject: string,
  data: string | Uint8Array,
  position: { msgID: string; lastSubjectSequence: number; headers?: MsgHdrs },
): Promise<PublishAtPositionResult> {
  try {
    const ack = await js.publish(subject, data, {
      msgID: position.msgID,
      headers: position.headers,
      expect: { lastSubjectSequence: position.lastSubjectSequence },
      retries: 3,
    });
    return ack.duplicate ? { kind: 'duplicate', seq: ack.seq } : { kind: 'stored', seq: ack.seq };
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) return { kind: 'refused' };
    throw error;
  }
}
