import { Logger } from '@nestjs/common';
import { errors, type NatsConnection } from '@nats-io/transport-node';

/** A worker's answer: its result, or the HTTP status and Letta `detail` the gateway should answer with. */
export type WorkerReply<Result> = ({ ok: true } & Result) | { ok: false; status: number; detail: string };

export interface WorkerRequestWording {
  /** What the request does, for the error details: "summarize the conversation", "run the tool". */
  action: string;
  /** What a timeout leaves behind, e.g. "nothing was changed". */
  afterTimeout: string;
}

/** Every worker replica serves these requests; NATS hands each one to one of them. */
const QUEUE = 'llm-worker';
/** Room left in a NATS message for its subject and headers. */
const REPLY_HEADROOM_BYTES = 4_096;

/**
 * Synchronous API calls that only the llm-worker can answer (it talks to models and runs tools) go
 * over core NATS request/reply. Nothing is written until the answer is back, so a worker lost
 * mid-request leaves everything as it was; the caller sees 503 (no worker), 504 (no answer in
 * time) or 500 (the worker failed) instead of hanging.
 */
export class WorkerRequests<Request, Result> {
  private readonly logger = new Logger(WorkerRequests.name);

  constructor(
    private readonly nc: NatsConnection,
    readonly subject: string,
    private readonly wording: WorkerRequestWording,
  ) {}

  async request(request: Request, timeoutMs: number): Promise<WorkerReply<Result>> {
    try {
      const reply = await this.nc.request(this.subject, JSON.stringify(request), { timeout: timeoutMs });
      return reply.json<WorkerReply<Result>>();
    } catch (error) {
      const cause = error instanceof errors.RequestError ? error.cause : error;
      if (cause instanceof errors.NoRespondersError || (error instanceof errors.RequestError && error.isNoResponders())) {
        return { ok: false, status: 503, detail: `No llm-worker is running to ${this.wording.action}; try again shortly` };
      }
      if (cause instanceof errors.TimeoutError) return { ok: false, status: 504, detail: `No llm-worker could ${this.wording.action} within ${timeoutMs} ms; ${this.wording.afterTimeout}` };
      throw error;
    }
  }

  serve(handler: (request: Request) => Promise<WorkerReply<Result>>): () => void {
    const subscription = this.nc.subscribe(this.subject, {
      queue: QUEUE,
      callback: (error, message) => {
        if (error) return;
        void Promise.resolve()
          .then(() => handler(message.json<Request>()))
          .catch((failure: unknown): WorkerReply<Result> => {
            // The failure's text may hold SQL or internals: it goes to the log, not to the client.
            this.logger.error(`${this.subject}: failed to ${this.wording.action}: ${failure instanceof Error ? failure.message : String(failure)}`);
            return { ok: false, status: 500, detail: `Failed to ${this.wording.action}; the server logged why` };
          })
          .then((reply) => message.respond(this.encodeReply(reply)))
          .catch((failure: unknown) => this.logger.error(`${this.subject}: could not answer: ${String(failure)}`));
      },
    });
    return () => subscription.unsubscribe();
  }

  /** The reply as sent; one too large for a NATS message becomes a 413 naming the sizes, never a lost answer. */
  private encodeReply(reply: WorkerReply<Result>): string {
    const encoded = JSON.stringify(reply);
    const limit = this.nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
    const size = Buffer.byteLength(encoded);
    if (size <= limit - REPLY_HEADROOM_BYTES) return encoded;
    const tooLarge: WorkerReply<Result> = {
      ok: false,
      status: 413,
      detail: `The result of the request to ${this.wording.action} is ${size} bytes, more than the ${limit - REPLY_HEADROOM_BYTES} bytes a reply can carry`,
    };
    return JSON.stringify(tooLarge);
  }
}
