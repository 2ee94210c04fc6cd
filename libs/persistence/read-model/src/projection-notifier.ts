import { Client } from 'pg';

export const PROJECTION_CHANNEL = 'run_versions';
// NOTIFY payloads are limited to 8000 bytes.
const MAX_PAYLOAD = 7_500;

/** Payloads announcing the versions a committed projection batch reached, `runId:version` per line. */
export function projectionNotices(versions: Map<string, number>): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const [runId, version] of versions) {
    const line = `${runId}:${version}`;
    if (current.length + line.length + 1 > MAX_PAYLOAD) {
      payloads.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) payloads.push(current);
  return payloads;
}

interface Waiter {
  minVersion: number;
  wake: () => void;
}

/**
 * Wakes services that wait for the read model to catch up with a run (the worker before a step,
 * the dispatcher before a callback, the gateway before [DONE]) when the projector commits,
 * through Postgres LISTEN/NOTIFY, instead of each of them polling the database.
 */
export class ProjectionNotifier {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private client: Client | null = null;

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.url, application_name: 'projection-listener' });
    client.on('notification', (notification) => this.onNotice(notification.payload ?? ''));
    client.on('error', () => {
      // The connection dropped: waiters fall back to their own timeout and re-check.
      this.client = null;
      setTimeout(() => void this.start().catch(() => undefined), 1_000);
    });
    await client.connect();
    await client.query(`LISTEN ${PROJECTION_CHANNEL}`);
    this.client = client;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    client?.removeAllListeners('error');
    await client?.end().catch(() => undefined);
  }

  /**
   * Resolves when a notice says the run reached `minVersion`, or after `maxWaitMs` (the caller
   * then checks the database itself; notices are a shortcut, never the only source of truth).
   */
  waitFor(runId: string, minVersion: number, maxWaitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        minVersion,
        wake: () => {
          clearTimeout(timer);
          this.waiters.get(runId)?.delete(waiter);
          if (this.waiters.get(runId)?.size === 0) this.waiters.delete(runId);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, maxWaitMs);
      const set = this.waiters.get(runId) ?? new Set<Waiter>();
      set.add(waiter);
      this.waiters.set(runId, set);
    });
  }

  /**
   * Runs `check` until it yields a value: right away, then each time a notice says the run
   * reached `minVersion`, and at least every 50 ms (for conditions notices do not cover).
   */
  async until<T>(runId: string, minVersion: number, check: () => Promise<T | null>, maxWaitMs: number): Promise<T | null> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const value = await check();
      if (value !== null) return value;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      await this.waitFor(runId, minVersion, Math.min(50, remaining));
    }
  }

  private onNotice(payload: string): void {
    for (const line of payload.split('\n')) {
      const separator = line.lastIndexOf(':');
      const waiting = this.waiters.get(line.slice(0, separator));
      if (!waiting) continue;
      const version = Number(line.slice(separator + 1));
      for (const waiter of [...waiting]) if (version >= waiter.minVersion) waiter.wake();
    }
  }
}
