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

/**
 * Synchronous API calls that only the llm-worker can answer (it talks to models and runs tools) go
 * over core NATS request/reply. Nothing is written until the answer is back, so a worker lost
 * mid-request leaves everything as it was; the caller sees 503 (no worker), 504 (no answer in
 * time) or 500 (the worker failed) instead of hanging.
 */
export class WorkerRequests<Request, Result> {
  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
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
        void handler(message.json<Request>())
          .catch((failure: unknown): WorkerReply<Result> => ({
            ok: false,
            status: 500,
            detail: `Failed to ${this.wording.action}: ${failure instanceof Error ? failure.message : String(failure)}`,
          }))
          .then((reply) => message.respond(JSON.stringify(reply)));
      },
    });
    return () => subscription.unsubscribe();
  }
}
