import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  receivedAtMs: number;
}

/** What the receiver answers: a status, or `hang` to never answer. */
export type CallbackResponse = number | 'hang';

/**
 * A callback_url target on 127.0.0.1 that records every POST. Responses come from a script
 * (e.g. [500, 500, 200]); after the script runs out it answers 200.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  private script: CallbackResponse[] = [];
  private waiters: (() => void)[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
        this.received.push({ path: request.url ?? '/', headers: request.headers, body, rawBody: raw, receivedAtMs: Date.now() });
        this.waiters.splice(0).forEach((wake) => wake());
        const next = this.script.shift() ?? 200;
        if (next === 'hang') return;
        response.writeHead(next, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
      });
    });
  }

  static async start(): Promise<CallbackReceiver> {
    const receiver = new CallbackReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path = '/callback'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  respondWith(...responses: CallbackResponse[]): void {
    this.script.push(...responses);
  }

  forPath(path: string): ReceivedCallback[] {
    return this.received.filter((callback) => callback.path === path);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`callback condition not met within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
