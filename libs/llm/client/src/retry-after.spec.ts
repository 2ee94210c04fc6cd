import { retryAfterMs } from './retry-after';

const headers = (values: Record<string, string>) => new Headers(values);

describe('retryAfterMs', () => {
  it('is null when the provider says nothing', () => {
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs(headers({}))).toBeNull();
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeNull();
  });

  it('reads retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterMs(headers({ 'retry-after': '1' }))).toBe(1_000);
    expect(retryAfterMs(headers({ 'retry-after': '2.5' }))).toBe(2_500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now)).toBe(7_000);
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now)).toBe(0);
  });

  it("prefers OpenAI's retry-after-ms, then retry-after, then the soonest rate-limit reset", () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '350', 'retry-after': '9' }))).toBe(350);
    expect(retryAfterMs(headers({ 'retry-after': '2', 'x-ratelimit-reset-requests': '1s' }))).toBe(2_000);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset-requests': '6m0s', 'x-ratelimit-reset-tokens': '1.5s' }))).toBe(1_500);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset-tokens': '20ms' }))).toBe(20);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset-tokens': '1h2m3s' }))).toBe(3_723_000);
    expect(retryAfterMs(headers({ 'x-ratelimit-reset-tokens': 'later' }))).toBeNull();
  });
});
