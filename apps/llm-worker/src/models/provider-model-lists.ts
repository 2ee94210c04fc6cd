import { Injectable, Logger } from '@nestjs/common';
import type { ModelListResult, ProviderModelList } from '@lrs/jetstream';
import { ModelProviders, type ProviderClients } from '../model-providers';

/** Bound on one provider's `GET /models`: a provider that is down must not hold the list up. */
export const MODEL_LIST_TIMEOUT_MS = 5_000;
/** How long a provider's list is reused; a failure is retried sooner. */
export const MODEL_LIST_TTL_MS = 60_000;
export const MODEL_LIST_FAILURE_TTL_MS = 10_000;

interface CacheEntry {
  until: number;
  list: Promise<ProviderModelList>;
}

/**
 * What each configured provider lists at its `/models`, asked in parallel with a timeout and
 * kept for a minute (concurrent requests share one call). A provider that fails is reported as
 * such (and logged), never as an error of the whole list: the gateway lists what is configured
 * for it instead.
 */
@Injectable()
export class ProviderModelLists {
  private readonly logger = new Logger(ProviderModelLists.name);
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly providers: ModelProviders,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<ModelListResult> {
    return { providers: await Promise.all(this.providers.all.map((provider) => this.listOf(provider))) };
  }

  private listOf(provider: ProviderClients): Promise<ProviderModelList> {
    const cached = this.cache.get(provider.name);
    if (cached && cached.until > this.now()) return cached.list;
    const entry: CacheEntry = { until: Number.POSITIVE_INFINITY, list: this.fetch(provider) };
    this.cache.set(provider.name, entry);
    void entry.list.then((list) => {
      entry.until = this.now() + (list.error === null ? MODEL_LIST_TTL_MS : MODEL_LIST_FAILURE_TTL_MS);
    });
    return entry.list;
  }

  private async fetch(provider: ProviderClients): Promise<ProviderModelList> {
    try {
      return { provider: provider.name, models: await provider.chat.listModels(MODEL_LIST_TIMEOUT_MS), error: null };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn(`provider '${provider.name}' did not list its models: ${reason}; its configured models are listed instead`);
      return { provider: provider.name, models: null, error: reason };
    }
  }
}
