import { Logger } from '@nestjs/common';

/**
 * Start-up work on a dependency (connecting to Postgres, provisioning JetStream), retried with
 * backoff up to 5 s, logging each failure, while the dependency is down or restarting, instead of
 * letting the service exit: it comes up when the dependency does.
 */
export async function withStartupRetries<T>(what: string, work: () => Promise<T>, logger = new Logger('Startup')): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const delayMs = Math.min(5_000, 250 * 2 ** Math.min(attempt - 1, 5));
      logger.warn(`${what} failed (attempt ${attempt}): ${error instanceof Error ? error.message : String(error)}; retrying in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
