/** What a header lookup needs: the Fetch API's `Headers` or anything with the same `get`. */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * How long a provider asked us to wait before trying again, in milliseconds, or null if it did not
 * say. Read in the order providers mean them: OpenAI's `retry-after-ms`, the standard `retry-after`
 * (seconds, or an HTTP date), then the soonest of the `x-ratelimit-reset-*` durations (`1s`,
 * `6m0s`, `20ms`, `1.5s`).
 */
export function retryAfterMs(headers: HeaderSource | null | undefined, nowMs: number = Date.now()): number | null {
  if (!headers) return null;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.round(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - nowMs);
  }
  const resets = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']
    .map((name) => parseDuration(headers.get(name)))
    .filter((value): value is number => value !== null);
  return resets.length ? Math.min(...resets) : null;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Go-style durations as OpenAI sends them: `6m0s`, `1.5s`, `20ms`. */
function parseDuration(value: string | null): number | null {
  const text = value?.trim();
  if (!text || !/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(text)) return null;
  let total = 0;
  for (const [, amount, , unit] of text.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g)) total += Number(amount) * UNIT_MS[unit];
  return Math.round(total);
}
