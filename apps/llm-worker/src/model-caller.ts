import { Inject, Injectable, Logger } from '@nestjs/common';
import { METRICS } from '@lrs/config';
import { ModelCallError, type ModelCall, type ModelReply } from '@lrs/llm-client';
import { WORKER_SETTINGS, type WorkerSettings } from './config/env';
import { ModelProviders } from './model-providers';

/**
 * The models behind the worker (chat and embeddings), each call sent to the provider its handle
 * names, with transient failures retried a bounded number of times with backoff.
 */
@Injectable()
export class ModelCaller {
  private readonly logger = new Logger(ModelCaller.name);

  constructor(
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
    private readonly providers: ModelProviders,
  ) {}

  /**
   * The reply of the model `handle` names, or the last error once retrying cannot help (at once
   * when its provider is not configured); `onRetry` runs before each wait.
   */
  async completeWithRetries(handle: string, call: Omit<ModelCall, 'model'>, onRetry: () => void = () => undefined): Promise<ModelReply | ModelCallError> {
    const routed = this.providers.route(handle);
    if (routed instanceof ModelCallError) return routed;
    return this.withRetries(
      'model call',
      async () => {
        const reply = await routed.provider.chat.complete({ ...call, model: routed.model });
        if (reply.firstTokenAtMs !== null) METRICS.timeToFirstToken.observe(Math.max(0, reply.firstTokenAtMs - reply.requestStartedAtMs) / 1000);
        return reply;
      },
      onRetry,
      call.signal,
    );
  }

  /** Embeddings of `texts` by the model `handle` names, or the last error once retrying cannot help. */
  async embedWithRetries(handle: string, texts: readonly string[], onRetry: () => void = () => undefined): Promise<number[][] | ModelCallError> {
    const routed = this.providers.route(handle);
    if (routed instanceof ModelCallError) return routed;
    return this.withRetries('embedding call', () => routed.provider.embeddings.embed(routed.model, texts), onRetry);
  }

  private async withRetries<T>(what: string, attemptOnce: () => Promise<T>, onRetry: () => void, signal?: AbortSignal): Promise<T | ModelCallError> {
    let lastError: ModelCallError | null = null;
    for (let attempt = 1; attempt <= this.settings.modelMaxAttempts; attempt++) {
      const started = performance.now();
      try {
        const result = await attemptOnce();
        METRICS.modelCalls.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
        return result;
      } catch (error) {
        lastError = error as ModelCallError;
        METRICS.modelCalls.observe({ outcome: lastError.errorType ?? 'error' }, (performance.now() - started) / 1000);
        if (!lastError.retryable || signal?.aborted || attempt === this.settings.modelMaxAttempts) break;
        const delayMs = retryDelayMs(lastError, attempt, this.settings);
        // A provider that asks for a longer pause than we would wait is not hammered: the call fails.
        if (delayMs === null) break;
        this.logger.warn(`${what} failed (attempt ${attempt}): ${lastError.message}; next attempt in ${delayMs} ms`);
        onRetry();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    return lastError as ModelCallError;
  }
}

/**
 * The pause before the next attempt: what the provider asked for (`retry-after` and its kin) plus
 * up to 10 % jitter, so that many workers do not come back at the same instant; without such a
 * header, exponential backoff. Null when the provider asks for more than MODEL_RETRY_AFTER_MAX_MS.
 */
export function retryDelayMs(error: ModelCallError, attempt: number, settings: Pick<WorkerSettings, 'modelRetryBaseMs' | 'modelRetryAfterMaxMs'>, random = Math.random): number | null {
  if (error.retryAfterMs === null) return settings.modelRetryBaseMs * 2 ** (attempt - 1);
  if (error.retryAfterMs > settings.modelRetryAfterMaxMs) return null;
  return Math.round(error.retryAfterMs * (1 + 0.1 * random()));
}
