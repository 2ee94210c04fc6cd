import { Agent, request } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/** Network failure of a request: whether it went out on a kept-alive socket, and whether any answer had come. */
export class HttpRequestError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly reusedSocket: boolean,
    readonly answered: boolean,
  ) {
    super(message);
  }
}

/**
 * A cheap JSON client for the gateway: node:http over one keep-alive agent. The socket count is
 * not capped, so an open loop never queues requests on the client side. Idle sockets are dropped
 * after 2 s, well before the server's 5 s keep-alive timeout; should the server still close an
 * idle socket just as a request goes out on it (ECONNRESET on a reused socket, before any answer),
 * the request never reached the application and is sent once more on a fresh socket. Nothing else
 * is retried: a retried POST .../messages/async could create a second run.
 */
export class HttpJsonClient {
  /** Requests sent again after the server had closed the idle socket they went out on. */
  staleSocketRetries = 0;
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, maxSockets = Infinity) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: 1_024, timeout: 2_000, scheduling: 'lifo' });
  }

  post(path: string, json: string, timeoutMs = 60_000): Promise<HttpResult> {
    return this.sendRetryingStaleSocket('POST', path, json, timeoutMs);
  }

  get(path: string, timeoutMs = 60_000): Promise<HttpResult> {
    return this.sendRetryingStaleSocket('GET', path, undefined, timeoutMs);
  }

  private async sendRetryingStaleSocket(method: string, path: string, body: string | undefined, timeoutMs: number): Promise<HttpResult> {
    try {
      return await this.send(method, path, body, timeoutMs, false);
    } catch (error) {
      if (!(error instanceof HttpRequestError) || !error.reusedSocket || error.answered || error.code !== 'ECONNRESET') throw error;
      this.staleSocketRetries++;
      return this.send(method, path, body, timeoutMs, true);
    }
  }


  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, body: string | undefined, timeoutMs: number, freshSocket: boolean): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { accept: 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      let answered = false;
      const outgoing = request(
        { agent: freshSocket ? false : this.agent, host: this.host, port: this.port, method, path, headers },
        (response) => {
          answered = true;
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      const timer = setTimeout(() => outgoing.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      outgoing.on('close', () => clearTimeout(timer));
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        const where = outgoing.reusedSocket ? ' (kept-alive socket)' : '';
        reject(new HttpRequestError(`${method} ${path}: ${error.message}${where}`, error.code, outgoing.reusedSocket, answered));
      });
      outgoing.end(body);
    });
  }
}
