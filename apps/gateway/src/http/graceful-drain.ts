import type { Server } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/**
 * How a gateway process stops without failing a request of a client that keeps its connections
 * alive (every HTTP client library does), during a rolling restart.
 *
 * Node's `server.close()` also closes the idle keep-alive connections at once. A client may be
 * sending its next request on one of them at that very moment, and that request fails with a
 * reset. Instead, once draining:
 * - a request that arrives on an open connection is answered with `Connection: close`, so the
 *   client opens its next connection elsewhere (another worker or pod);
 * - an idle connection is left to the keep-alive timeout, which a client honouring the server's
 *   `Keep-Alive: timeout=N` header never reaches: it stops reusing the connection before then.
 * Whatever is still open after `drainTimeoutMs` (a stream, a client that ignores the header) is
 * cut; streams are resumed by their clients from their last event.
 */
export class GracefulDrain {
  private draining = false;

  constructor(
    private readonly server: Server,
    private readonly drainTimeoutMs: number,
  ) {}

  /** The first middleware: marks responses of a draining process as the connection's last. */
  readonly middleware = (_request: Request, response: Response, next: NextFunction): void => {
    if (this.draining) response.shouldKeepAlive = false;
    next();
  };

  /** Call on SIGTERM, before the HTTP server is closed. */
  start(): void {
    if (this.draining) return;
    this.draining = true;
    this.server.closeIdleConnections = () => undefined;
    setTimeout(() => this.server.closeAllConnections(), this.drainTimeoutMs).unref();
  }
}
