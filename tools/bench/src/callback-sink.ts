import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './util';

export interface CallbackRecord {
  /** Deliveries for this run id (exactly once is expected). */
  count: number;
  firstAtMs: number;
  /** The run status the first delivery reported. */
  status: string | null;
}

/**
 * The callback_url target of every bench run: counts POSTs per run id (the `webhook-id` header,
 * which is the run id) and wakes the closed-loop client waiting for that run. Unlike the test
 * receiver it keeps no bodies, so memory stays flat over long runs.
 */
export class CallbackSink {
  readonly byRunId = new Map<string, CallbackRecord>();
  /** Every POST received, attributable or not. */
  total = 0;
  /** POSTs without a recognisable run id. */
  unattributed = 0;
  private readonly waiters = new Map<string, () => void>();
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const atMs = nowMs();
        this.record(request.headers['webhook-id'], Buffer.concat(chunks).toString('utf8'), atMs);
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
        response.end('{"ok":true}');
      });
    });
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
  }

  static async start(): Promise<CallbackSink> {
    const sink = new CallbackSink();
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  url(path = '/bench-callback'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Resolves true once the run's callback has arrived, false after `timeoutMs`. */
  waitFor(runId: string, timeoutMs: number): Promise<boolean> {
    if (this.byRunId.has(runId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(runId);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(runId, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async stop(): Promise<void> {
    for (const wake of this.waiters.values()) wake();
    this.waiters.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(webhookId: string | string[] | undefined, raw: string, atMs: number): void {
    this.total++;
    let runId = typeof webhookId === 'string' ? webhookId : null;
    let status: string | null = null;
    try {
      const body = JSON.parse(raw) as { run_id?: unknown; status?: unknown };
      if (typeof body.status === 'string') status = body.status;
      if (!runId && typeof body.run_id === 'string') runId = body.run_id;
    } catch {
      // counted below as a delivery without a readable status
    }
    if (!runId) {
      this.unattributed++;
      return;
    }
    const existing = this.byRunId.get(runId);
    if (existing) {
      existing.count++;
      return;
    }
    this.byRunId.set(runId, { count: 1, firstAtMs: atMs, status });
    const wake = this.waiters.get(runId);
    if (wake) {
      this.waiters.delete(runId);
      wake();
    }
  }
}
