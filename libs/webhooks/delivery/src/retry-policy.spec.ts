import { classifyAttempt, retryDelayMs } from './retry-policy';

describe('classifyAttempt', () => {
  const withStatus = (statusCode: number) => ({ statusCode, error: null });
  const withError = (error: string) => ({ statusCode: null, error });

  it.each([200, 201, 202, 204, 299])('treats %i as delivered', (status) => {
    expect(classifyAttempt(withStatus(status))).toBe('delivered');
  });

  it.each([408, 409, 425, 429, 500, 502, 503, 504, 599])('retries %i', (status) => {
    expect(classifyAttempt(withStatus(status))).toBe('retryable');
  });

  it.each([300, 301, 302, 307, 308, 400, 401, 403, 404, 405, 410, 413, 422, 600])('rejects %i', (status) => {
    expect(classifyAttempt(withStatus(status))).toBe('rejected');
  });

  it('classifies by status even when the body drain then failed', () => {
    expect(classifyAttempt({ statusCode: 200, error: 'timeout after 5000 ms' })).toBe('delivered');
    expect(classifyAttempt({ statusCode: 503, error: 'ECONNRESET: aborted' })).toBe('retryable');
  });

  it.each([
    'timeout after 5000 ms',
    'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9',
    'ECONNRESET: socket hang up',
    'ENOTFOUND: getaddrinfo ENOTFOUND receiver.invalid',
  ])('retries network failure %j', (error) => {
    expect(classifyAttempt(withError(error))).toBe('retryable');
  });

  it('retries a result with neither status nor error', () => {
    expect(classifyAttempt({ statusCode: null, error: null })).toBe('retryable');
  });

  it.each([
    'refused: localhost resolves to forbidden address 127.0.0.1',
    'invalid url: unsupported scheme "ftp:" (only http: and https: are delivered)',
    'invalid url: cannot parse "not a url"',
  ])('rejects permanent failure %j', (error) => {
    expect(classifyAttempt(withError(error))).toBe('rejected');
  });
});

describe('retryDelayMs', () => {
  const policy = { baseMs: 1_000, capMs: 60_000 };
  const noJitter = () => 0;
  const fullJitter = () => 0.999999;

  it('doubles from the base delay per attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, policy, noJitter))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000,
    ]);
  });

  it('caps the delay', () => {
    expect(retryDelayMs(7, policy, noJitter)).toBe(60_000);
    expect(retryDelayMs(50, policy, noJitter)).toBe(60_000);
    expect(retryDelayMs(5_000, policy, noJitter)).toBe(60_000);
  });

  it('only shortens the delay, by at most 20 %', () => {
    expect(retryDelayMs(1, policy, fullJitter)).toBeGreaterThanOrEqual(800);
    expect(retryDelayMs(1, policy, fullJitter)).toBeLessThan(1_000);
    expect(retryDelayMs(10, policy, fullJitter)).toBeGreaterThanOrEqual(48_000);
    expect(retryDelayMs(10, policy, () => 0.5)).toBe(54_000);
  });

  it('stays within [0.8 × expected, expected] for random jitter', () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const expected = Math.min(policy.baseMs * 2 ** (attempt - 1), policy.capMs);
      for (let sample = 0; sample < 50; sample += 1) {
        const delay = retryDelayMs(attempt, policy);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(expected * 0.8));
        expect(delay).toBeLessThanOrEqual(expected);
      }
    }
  });

  it('treats attempts below 1 as the first attempt and tolerates odd random sources', () => {
    expect(retryDelayMs(0, policy, noJitter)).toBe(1_000);
    expect(retryDelayMs(-3, policy, noJitter)).toBe(1_000);
    expect(retryDelayMs(Number.NaN, policy, noJitter)).toBe(1_000);
    expect(retryDelayMs(1, policy, () => 7)).toBe(800);
    expect(retryDelayMs(1, policy, () => -1)).toBe(1_000);
  });
});
