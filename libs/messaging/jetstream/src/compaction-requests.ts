import { errors, type NatsConnection } from '@nats-io/transport-node';
import type { CompactionMode } from '@lrs/domain-run';

export interface CompactionRequest {
  organizationId: string;
  agentId: string;
  laneId: string;
  mode: CompactionMode;
  prompt: string | null;
  /** Model handle for the summary; the agent's own model when null. */
  model: string | null;
  keepFraction: number;
}

export type CompactionReply =
  | {
      ok: true;
      summary: string;
      summarizedIds: string[];
      keptIds: string[];
      contextSize: number;
      /** The newest message the summariser read: later ones stay in the context untouched. */
      seenUpToSequence: number;
    }
  | { ok: false; status: number; detail: string };

const SUBJECT = 'llm.compactions';
/** Every worker replica serves compactions; NATS hands each request to one of them. */
const QUEUE = 'llm-worker';

/**
 * Summarising a thread is a synchronous API call that needs a model, which only the llm-worker
 * talks to: the gateway asks over core NATS request/reply and writes the result itself. Nothing is
 * written until the answer is back, so a worker lost mid-request leaves the thread as it was.
 */
export class CompactionRequests {
  constructor(private readonly nc: NatsConnection) {}

  async request(request: CompactionRequest, timeoutMs: number): Promise<CompactionReply> {
    try {
      const reply = await this.nc.request(SUBJECT, JSON.stringify(request), { timeout: timeoutMs });
      return reply.json<CompactionReply>();
    } catch (error) {
      const cause = error instanceof errors.RequestError ? error.cause : error;
      if (cause instanceof errors.NoRespondersError || (error instanceof errors.RequestError && error.isNoResponders())) return { ok: false, status: 503, detail: 'No llm-worker is running to summarize the conversation; try again shortly' };
      if (cause instanceof errors.TimeoutError) return { ok: false, status: 504, detail: `The summary took longer than ${timeoutMs} ms; nothing was changed` };
      throw error;
    }
  }

  serve(handler: (request: CompactionRequest) => Promise<CompactionReply>): () => void {
    const subscription = this.nc.subscribe(SUBJECT, {
      queue: QUEUE,
      callback: (error, message) => {
        if (error) return;
        void handler(message.json<CompactionRequest>())
          .catch((failure: unknown): CompactionReply => ({ ok: false, status: 500, detail: `Summarizing failed: ${failure instanceof Error ? failure.message : String(failure)}` }))
          .then((reply) => message.respond(JSON.stringify(reply)));
      },
    });
    return () => subscription.unsubscribe();
  }
}
