import { readiness } from './readiness';

describe('readiness', () => {
  it('is ready when every check answers, and names what failed or did not answer otherwise', async () => {
    await expect(readiness([{ name: 'a', check: async () => undefined }])).resolves.toEqual({ ready: true, checks: { a: 'ok' } });
    const result = await readiness(
      [
        { name: 'ok', check: async () => undefined },
        { name: 'down', check: async () => Promise.reject(new Error('connection refused')) },
        { name: 'hung', check: () => new Promise<void>(() => undefined) },
      ],
      50,
    );
    expect(result).toEqual({ ready: false, checks: { ok: 'ok', down: 'connection refused', hung: 'no answer within 50 ms' } });
  });
});
