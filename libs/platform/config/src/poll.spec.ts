import { pollUntil } from './poll';

describe('pollUntil', () => {
  it('returns the first value without waiting when the probe answers at once', async () => {
    const probe = jest.fn(async () => 'ready');
    await expect(pollUntil(probe, 100)).resolves.toBe('ready');
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('keeps probing until a value appears', async () => {
    let calls = 0;
    const probe = async () => (++calls >= 4 ? { row: calls } : null);
    await expect(pollUntil(probe, 150)).resolves.toEqual({ row: 4 });
    expect(calls).toBe(4);
  });

  it('returns falsy values other than null', async () => {
    await expect(pollUntil(async () => 0, 50)).resolves.toBe(0);
    await expect(pollUntil(async () => '', 50)).resolves.toBe('');
    await expect(pollUntil(async () => false, 50)).resolves.toBe(false);
  });

  it('returns null once the deadline passes, after probing more than once', async () => {
    const probe = jest.fn(async () => null);
    await expect(pollUntil(probe, 30)).resolves.toBeNull();
    expect(probe.mock.calls.length).toBeGreaterThan(1);
  });

  it('probes once and returns null for a zero wait', async () => {
    const probe = jest.fn(async () => null);
    await expect(pollUntil(probe, 0)).resolves.toBeNull();
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('propagates a probe failure', async () => {
    await expect(pollUntil(async () => Promise.reject(new Error('db down')), 50)).rejects.toThrow('db down');
  });
});
