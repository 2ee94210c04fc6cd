import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModelCallError, ModelClient, type ModelCall, type ModelReply } from '@lrs/llm-client';
import { WORKER_SETTINGS, type WorkerSettings } from './config/env';

/** The model behind the worker, with transient failures retried a bounded number of times with backoff. */
@Injectable()
export class ModelCaller {
  private readonly logger = new Logger(ModelCaller.name);
  private readonly client: ModelClient;

  constructor(@Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings) {
    this.client = new ModelClient({ baseURL: settings.openaiBaseUrl, apiKey: settings.openaiApiKey, timeoutMs: settings.modelTimeoutMs });
  }

  /** The reply, or the last error once retrying cannot help; `onRetry` runs before each wait. */
  async completeWithRetries(call: ModelCall, onRetry: () => void = () => undefined): Promise<ModelReply | ModelCallError> {
    let lastError: ModelCallError | null = null;
    for (let attempt = 1; attempt <= this.settings.modelMaxAttempts; attempt++) {
      try {
        return await this.client.complete(call);
      } catch (error) {
        lastError = error as ModelCallError;
        if (!lastError.retryable || call.signal?.aborted || attempt === this.settings.modelMaxAttempts) break;
        this.logger.warn(`model call failed (attempt ${attempt}): ${lastError.message}`);
        onRetry();
        await new Promise((resolve) => setTimeout(resolve, this.settings.modelRetryBaseMs * 2 ** (attempt - 1)));
      }
    }
    return lastError as ModelCallError;
  }
}
