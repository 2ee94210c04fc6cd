import { ProjectionNotifier, projectionNotices } from './projection-notifier';

describe('projection notices', () => {
  it('packs runId:version lines into payloads under the NOTIFY size limit', () => {
    const versions = new Map(Array.from({ length: 400 }, (_, i) => [`run-${String(i).padStart(36, '0')}`, i + 1] as [string, number]));
    const payloads = projectionNotices(versions);
    expect(payloads.length).toBeGreaterThan(1);
    expect(payloads.every((payload) => payload.length <= 7_500)).toBe(true);
    expect(payloads.join('\n').split('\n')).toEqual([...versions].map(([runId, version]) => `${runId}:${version}`));
    expect(projectionNotices(new Map())).toEqual([]);
  });

  it('wakes a waiter when its run reaches the version, and only then', async () => {
    const notifier = new ProjectionNotifier('postgres://unused');
    const deliver = (payload: string) => (notifier as unknown as { onNotice(p: string): void }).onNotice(payload);
    let woke = false;
    const waiting = notifier.waitFor('run-a', 3, 5_000).then(() => (woke = true));
    deliver('run-b:9\nrun-a:2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(woke).toBe(false);
    deliver('run-a:3');
    await waiting;
    expect(woke).toBe(true);
  });

  it('until() re-checks on every wake and gives up at the deadline', async () => {
    const notifier = new ProjectionNotifier('postgres://unused');
    let checks = 0;
    expect(await notifier.until('run-x', 1, async () => (++checks >= 3 ? 'ready' : null), 1_000)).toBe('ready');
    expect(checks).toBe(3);
    expect(await notifier.until('run-x', 1, async () => null, 60)).toBeNull();
  });
});
