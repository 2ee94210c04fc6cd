import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModelListRequests, type ProviderModelList } from '@lrs/jetstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { matchesFilter, modelCatalog, toLettaEmbeddingModel, toLettaModel, type ModelFilter } from './model-catalog';

/** Longer than a worker's bound on one provider (5 s; providers are asked in parallel). */
const MODEL_LIST_REQUEST_TIMEOUT_MS = 8_000;

/**
 * GET /v1/models and /v1/models/embedding. Only the llm-worker holds the providers' endpoints and
 * keys (the gateway may not use the model SDK, and need not hold provider secrets), so it lists
 * them over NATS request/reply. The answer is never a 5xx for want of a provider: one that is
 * down is listed with its configured models, and with no worker at all every configured one is.
 */
@Injectable()
export class ListModelsUseCase {
  private readonly logger = new Logger(ListModelsUseCase.name);

  constructor(
    private readonly requests: ModelListRequests,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async chatModels(filter: ModelFilter) {
    const { chat } = await this.catalog();
    return chat.filter((entry) => matchesFilter(entry, filter)).map(toLettaModel);
  }

  async embeddingModels() {
    const { embedding } = await this.catalog();
    return embedding.map(toLettaEmbeddingModel);
  }

  private async catalog() {
    const { allowedModels, defaultModelHandle, defaultEmbeddingHandle } = this.settings;
    return modelCatalog(await this.providerLists(), { allowedModels, configuredHandles: [...allowedModels, defaultModelHandle, defaultEmbeddingHandle] });
  }

  private async providerLists(): Promise<ProviderModelList[] | null> {
    try {
      const reply = await this.requests.request({}, MODEL_LIST_REQUEST_TIMEOUT_MS);
      if (reply.ok) return reply.providers;
      this.logger.warn(`no provider's model list: ${reply.detail}; listing the configured models`);
    } catch (error) {
      this.logger.warn(`no provider's model list: ${error instanceof Error ? error.message : String(error)}; listing the configured models`);
    }
    return null;
  }
}
