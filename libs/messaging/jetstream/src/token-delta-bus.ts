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

  publish(runId: string, delta: TokenDelta): void {
    this.nc.publish(subjectFor(runId), JSON.stringify(delta));
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
