import { INVALID_URL_ERROR_PREFIX, REFUSED_ERROR_PREFIX, type WebhookAttemptResult } from './attempt-result';

export type AttemptClassification = 'delivered' | 'retryable' | 'rejected';

// Statuses that say "not now" rather than "never": timeouts, conflicts with in-flight work,
// too-early replays and rate limits. 5xx is handled as a range.
const RETRYABLE_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 409, 425, 429]);

export function classifyAttempt(
  result: Pick<WebhookAttemptResult, 'statusCode' | 'error'>,
): AttemptClassification {
  const { statusCode, error } = result;
  if (statusCode !== null) {
    if (statusCode >= 200 && statusCode < 300) return 'delivered';
    if (statusCode >= 500 && statusCode < 600) return 'retryable';
    return RETRYABLE_CLIENT_STATUSES.has(statusCode) ? 'retryable' : 'rejected';
  }
  // No response: transient network trouble is worth retrying, but a URL we refuse to call or
  // cannot parse will be refused again on every attempt.
  if (error !== null && (error.startsWith(REFUSED_ERROR_PREFIX) || error.startsWith(INVALID_URL_ERROR_PREFIX))) {
    return 'rejected';
  }
  return 'retryable';
}

export interface RetryBackoffPolicy {
  baseMs: number;
  capMs: number;
}

const MAX_JITTER_FRACTION = 0.2;

/**
 * Delay to wait after failed attempt number `attempt` (1-based) before the next one:
 * `baseMs * 2^(attempt-1)` capped at `capMs`, then shortened by up to 20 % so receivers
 * recovering from an outage are not hit by every queued callback at the same instant.
 * Only negative jitter, so `capMs` stays a true upper bound.
 */
export function retryDelayMs(
  attempt: number,
  policy: RetryBackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : 0;
  // 2 ** exponent overflows to Infinity for huge attempt numbers, which the cap absorbs.
  const uncapped = policy.baseMs * 2 ** exponent;
  const capped = Math.max(0, Math.min(uncapped, policy.capMs));
  const jitterFraction = Math.min(Math.max(random(), 0), 1) * MAX_JITTER_FRACTION;
  return Math.floor(capped * (1 - jitterFraction));
}
