/** Outcome of one delivery attempt, in the shape the dispatcher records per attempt. */
export interface WebhookAttemptResult {
  /** HTTP status the receiver answered with; null when no response headers arrived. */
  statusCode: number | null;
  /** Why the attempt failed or was cut short; null for a complete exchange. */
  error: string | null;
  durationMs: number;
}

// Error prefixes for failures that no retry can fix. classifyAttempt keys off them, so results
// read back from storage (which only keep the text) classify the same as fresh ones.
export const REFUSED_ERROR_PREFIX = 'refused:';
export const INVALID_URL_ERROR_PREFIX = 'invalid url:';
