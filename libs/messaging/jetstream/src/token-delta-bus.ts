import type { NatsConnection } from '@nats-io/transport-node';

/** One streamed piece of an assistant message (or of the model's reasoning), as the model produced it. */
export interface TokenDelta {
  stepId: string;
  messageId: string;
  otid: string;
  text: string;
  /** Absent for assistant text. */
  kind?: 'reasoning';
}

const subjectFor = (runId: string) => `deltas.${runId}`;

/**
 * Token deltas travel from the worker making the model call to whichever gateway replica holds a
 * token-streaming client, over core NATS: fast and fire-and-forget. They are a preview only; the
 * durable record is the step's message in the run's events, which the stream falls back on.
 */
export class TokenDeltaBus {
  constructor(private readonly nc: NatsConnection) {}

  /**
   * Never throws: a preview that cannot be sent is dropped (the stored message still reaches the
   * stream). A piece too large for a NATS message is sent as several, which concatenate to it.
   */
  publish(runId: string, delta: TokenDelta): void {
    try {
      for (const text of pieces(delta.text)) this.nc.publish(subjectFor(runId), JSON.stringify({ ...delta, text }));
    } catch {
      // Disconnected or closed: the preview is lost, nothing else.
    }
  }

  subscribe(runId: string, listener: (delta: TokenDelta) => void): () => void {
    const subscription = this.nc.subscribe(subjectFor(runId), {
      callback: (error, message) => {
        if (!error) listener(message.json<TokenDelta>());
      },
    });
    return () => subscription.unsubscribe();
  }
}

/** Characters per published piece: far below NATS's max_payload even when every one is escaped. */
const PIECE_CHARS = 64 * 1024;

function pieces(text: string): string[] {
  if (text.length <= PIECE_CHARS) return [text];
  const result: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + PIECE_CHARS);
    // Never split a surrogate pair between two pieces.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1])) end--;
    result.push(text.slice(start, end));
    start = end;
  }
  return result;
}
