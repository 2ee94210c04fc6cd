import { Inject, Injectable } from '@nestjs/common';
import { EmbeddingClient, ModelCallError, ModelClient, modelNameFromHandle, providerFromHandle } from '@lrs/llm-client';
import { WORKER_SETTINGS, type WorkerSettings } from './config/env';

/** A configured provider's clients. */
export interface ProviderClients {
  name: string;
  chat: ModelClient;
  embeddings: EmbeddingClient;
}

/** Where a handle's calls go: the provider's clients and the model name at its endpoint. */
export interface RoutedModel {
  provider: ProviderClients;
  model: string;
}

/** The error type of a step (or embedding) whose handle names a provider this server has not configured. */
export const PROVIDER_NOT_CONFIGURED = 'llm_provider_not_configured';

/**
 * The configured model providers (PROVIDERS, README "Configuration"), each an OpenAI-compatible
 * endpoint with its own key. A handle `<provider>/<model>` goes to its provider's endpoint as
 * `<model>` (`openrouter/anthropic/claude-sonnet-4` is `anthropic/claude-sonnet-4` at openrouter).
 */
@Injectable()
export class ModelProviders {
  private readonly byName: Map<string, ProviderClients>;

  constructor(@Inject(WORKER_SETTINGS) settings: Pick<WorkerSettings, 'providers' | 'modelTimeoutMs'>) {
    this.byName = new Map(
      settings.providers.map((provider) => {
        const options = { baseURL: provider.baseUrl, apiKey: provider.apiKey, timeoutMs: settings.modelTimeoutMs };
        return [provider.name, { name: provider.name, chat: new ModelClient(options), embeddings: new EmbeddingClient(options) }];
      }),
    );
  }

  /** Every configured provider, `openai` first. */
  get all(): ProviderClients[] {
    return [...this.byName.values()];
  }

  /** The provider and model a handle names, or a non-retryable error when its provider is not configured. */
  route(handle: string): RoutedModel | ModelCallError {
    const name = providerFromHandle(handle);
    const provider = this.byName.get(name);
    if (!provider) {
      return new ModelCallError(
        `model provider '${name}' of the handle '${handle}' is not configured on this server (configured: ${[...this.byName.keys()].join(', ')})`,
        PROVIDER_NOT_CONFIGURED,
        false,
        null,
      );
    }
    return { provider, model: modelNameFromHandle(handle) };
  }
}
