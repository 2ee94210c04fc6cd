import { ModelCallError } from '@lrs/llm-client';
import { retryDelayMs } from './model-caller';

const settings = { modelRetryBaseMs: 250, modelRetryAfterMaxMs: 60_000 };
const error = (retryAfterMs: number | null) => new ModelCallError('429', 'llm_rate_limit', true, 429, retryAfterMs);

describe('retryDelayMs', () => {
  it('backs off exponentially when the provider names no pause', () => {
    expect([1, 2, 3].map((attempt) => retryDelayMs(error(null), attempt, settings))).toEqual([250, 500, 1_000]);
  });

  it("waits what the provider asked for, plus up to 10 % jitter, whatever the attempt", () => {
    expect(retryDelayMs(error(1_000), 1, settings, () => 0)).toBe(1_000);
    expect(retryDelayMs(error(1_000), 3, settings, () => 0.999)).toBe(1_100);
  });

  it('gives up rather than come back early when the pause is longer than the bound', () => {
    expect(retryDelayMs(error(60_001), 1, settings)).toBeNull();
    expect(retryDelayMs(error(60_000), 1, settings, () => 0)).toBe(60_000);
  });
});
