import type { NatsConnection } from '@nats-io/transport-node';
import { WorkerRequests, type WorkerReply } from './worker-requests';

/** What one provider lists: its model ids, or why it could not be asked (then `models` is null). */
export interface ProviderModelList {
  /** The provider's name, the first part of its handles. */
  provider: string;
  models: string[] | null;
  error: string | null;
}

/** Every configured provider, in configuration order (`openai` first). */
export interface ModelListResult {
  providers: ProviderModelList[];
}

export type ModelListReply = WorkerReply<ModelListResult>;

export const MODEL_LIST_REQUESTS = 'llm.model-lists';

/**
 * The models each provider offers (GET /v1/models): only the llm-worker knows the providers'
 * endpoints and keys, so the gateway asks one; it answers from a short cache.
 */
export class ModelListRequests extends WorkerRequests<Record<string, never>, ModelListResult> {
  constructor(nc: NatsConnection) {
    super(nc, MODEL_LIST_REQUESTS, { action: 'list the models', afterTimeout: 'nothing was changed' });
  }
}
