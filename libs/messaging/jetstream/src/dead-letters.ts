import { errors, type NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { DLQ_STREAM, EVENT_TYPE_HEADER, peekRunEventIdentity } from '@lrs/contracts';
import { redriveSubject, type RedriveReply, type RedriveRequest } from './consumer-runner';

/** One message a consumer gave up on, as the DLQ stream holds it. */
export interface DeadLetter {
  /** Its sequence in the DLQ stream. */
  dlqSeq: number;
  consumer: string;
  /** Where it came from: the stream, and its sequence there. */
  stream: string;
  streamSeq: number;
  eventType: string;
  runId: string;
  /** Why the consumer gave up (the handler's last error). */
  error: string;
  deadAt: string;
  data: Uint8Array;
}

/**
 * The DLQ as an operator sees it (`npm run dlq`): list what the consumers gave up on, and hand
 * entries back to their consumer's handler once the cause is fixed; an entry that goes through
 * leaves the DLQ.
 */
export class DeadLetters {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {}

  async list(consumer?: string): Promise<DeadLetter[]> {
    const { state } = await this.jsm.streams.info(DLQ_STREAM);
    const letters: DeadLetter[] = [];
    if (state.messages === 0) return letters;
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const message = await this.jsm.streams.getMessage(DLQ_STREAM, { seq }).catch(() => null);
      if (!message) continue;
      const owner = message.subject.slice('dlq.'.length);
      if (consumer && owner !== consumer) continue;
      // Listed as it claims to be, even when it cannot be decoded: its redrive will fail and say why.
      const identity = peekRunEventIdentity(message.data);
      letters.push({
        dlqSeq: seq,
        consumer: owner,
        stream: message.header?.get('Dlq-Stream') ?? '?',
        streamSeq: Number(message.header?.get('Dlq-Seq') ?? 0),
        eventType: message.header?.get(EVENT_TYPE_HEADER) || identity.type,
        runId: identity.runId,
        error: message.header?.get('Dlq-Error') ?? '',
        deadAt: message.time.toISOString(),
        data: message.data,
      });
    }
    return letters;
  }

  /** Hands the entry to one replica of its consumer's service; removes it from the DLQ if that worked. */
  async redrive(letter: DeadLetter, timeoutMs = 30_000): Promise<RedriveReply> {
    const request: RedriveRequest = { streamSeq: letter.streamSeq, data: Buffer.from(letter.data).toString('base64') };
    let reply: RedriveReply;
    try {
      reply = (await this.nc.request(redriveSubject(letter.consumer), JSON.stringify(request), { timeout: timeoutMs })).json<RedriveReply>();
    } catch (error) {
      const noResponders = error instanceof errors.RequestError && error.isNoResponders();
      return { ok: false, error: noResponders ? `no ${letter.consumer} consumer is running to take it` : String(error) };
    }
    if (reply.ok) await this.jsm.streams.deleteMessage(DLQ_STREAM, letter.dlqSeq);
    return reply;
  }
}
