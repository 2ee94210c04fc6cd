import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  classifyAttempt,
  closeWebhookConnections,
  DEFAULT_WEBHOOK_USER_AGENT,
  deliverWebhook,
  signStandardWebhook,
  type WebhookRequest,
} from './index';

interface RecordedRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
  remotePort: number | undefined;
}

interface Receiver {
  baseUrl: string;
  port: number;
  requests: RecordedRequest[];
  /** Counts TCP connections, so refusals can be shown to never reach the socket layer. */
  connectionCount: () => number;
  close: () => Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function startReceiver(handler: Handler): Promise<Receiver> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: request.socket.remotePort,
      });
      handler(request, response);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    requests,
    connectionCount: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that was just listening and is now closed, so connecting to it is refused. */
async function closedPort(): Promise<number> {
  const receiver = await startReceiver(() => undefined);
  await receiver.close();
  return receiver.port;
}

const FIXED_NOW = new Date('2024-05-01T12:00:00.000Z');
const FIXED_TIMESTAMP = Math.floor(FIXED_NOW.getTime() / 1000);
const CALLBACK_BODY = JSON.stringify({ run_id: 'run-123', status: 'completed', note: 'héllo ✓' });

function webhookRequest(overrides: Partial<WebhookRequest>): WebhookRequest {
  return {
    url: 'http://127.0.0.1:9/',
    body: CALLBACK_BODY,
    webhookId: 'msg_run-123',
    timeoutMs: 2_000,
    allowPrivateNetworks: true,
    now: () => FIXED_NOW,
    ...overrides,
  };
}

describe('deliverWebhook against a real HTTP receiver', () => {
  const receivers: Receiver[] = [];
  const receiver = async (handler: Handler): Promise<Receiver> => {
    const started = await startReceiver(handler);
    receivers.push(started);
    return started;
  };
  const respondWith = (status: number, body = ''): Handler => (_request, response) => {
    response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  };

  afterEach(async () => {
    closeWebhookConnections();
    await Promise.all(receivers.splice(0).map((started) => started.close()));
  });

  it('delivers a signed callback with the Standard Webhooks headers', async () => {
    const target = await receiver(respondWith(200, 'ok'));
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    const result = await deliverWebhook(
      webhookRequest({ url: `${target.baseUrl}/hooks/letta?tenant=a`, signingSecret: secret }),
    );

    expect(result).toEqual({ statusCode: 200, error: null, durationMs: expect.any(Number) });
    expect(classifyAttempt(result)).toBe('delivered');
    expect(target.requests).toHaveLength(1);
    const [seen] = target.requests;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/hooks/letta?tenant=a');
    expect(seen.body).toBe(CALLBACK_BODY);
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(CALLBACK_BODY)));
    expect(seen.headers['user-agent']).toBe(DEFAULT_WEBHOOK_USER_AGENT);
    expect(seen.headers['webhook-id']).toBe('msg_run-123');
    expect(seen.headers['webhook-timestamp']).toBe(String(FIXED_TIMESTAMP));
    // Verify the way a receiver would: recompute over the bytes and headers it actually got.
    expect(seen.headers['webhook-signature']).toBe(
      signStandardWebhook(secret, String(seen.headers['webhook-id']), Number(seen.headers['webhook-timestamp']), seen.body),
    );
  });

  it('sends no signature header without a secret and honours a custom user agent', async () => {
    const target = await receiver(respondWith(204));

    const result = await deliverWebhook(
      webhookRequest({ url: target.baseUrl, signingSecret: null, userAgent: 'custom-agent/2.0' }),
    );

    expect(result.statusCode).toBe(204);
    expect(target.requests[0].headers['webhook-signature']).toBeUndefined();
    expect(target.requests[0].headers['user-agent']).toBe('custom-agent/2.0');
  });

  it('reports a 500 as a retryable status', async () => {
    const target = await receiver(respondWith(500, 'boom'));

    const result = await deliverWebhook(webhookRequest({ url: target.baseUrl }));

    expect(result.statusCode).toBe(500);
    expect(result.error).toBeNull();
    expect(classifyAttempt(result)).toBe('retryable');
  });

  it('does not follow redirects', async () => {
    const target = await receiver((_request, response) => {
      response.writeHead(302, { location: '/elsewhere' }).end();
    });

    const result = await deliverWebhook(webhookRequest({ url: `${target.baseUrl}/start` }));

    expect(result.statusCode).toBe(302);
    expect(classifyAttempt(result)).toBe('rejected');
    expect(target.requests.map((seen) => seen.url)).toEqual(['/start']);
  });

  it('gives up on a receiver that never answers after timeoutMs', async () => {
    const target = await receiver(() => undefined);
    const timeoutMs = 300;
    const startedAt = Date.now();

    const result = await deliverWebhook(webhookRequest({ url: target.baseUrl, timeoutMs }));

    expect(result.statusCode).toBeNull();
    expect(result.error).toBe('timeout after 300 ms');
    expect(classifyAttempt(result)).toBe('retryable');
    expect(Date.now() - startedAt).toBeLessThan(timeoutMs + 5_000);
    expect(target.requests).toHaveLength(1);
  });

  it('counts a response body that never finishes against the timeout', async () => {
    const target = await receiver((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('partial');
    });

    const result = await deliverWebhook(webhookRequest({ url: target.baseUrl, timeoutMs: 300 }));

    expect(result.error).toBe('timeout after 300 ms');
    // The receiver did accept the callback; that is what the status records.
    expect(result.statusCode).toBe(200);
  });

  it('stops reading an oversized response body without failing the attempt', async () => {
    const target = await receiver((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.alloc(4 * 1024 * 1024, 0x61));
    });

    const result = await deliverWebhook(webhookRequest({ url: target.baseUrl }));

    expect(result).toEqual({ statusCode: 200, error: null, durationMs: expect.any(Number) });
  });

  it('reuses the keep-alive connection for consecutive callbacks', async () => {
    const target = await receiver(respondWith(200, 'ok'));

    await deliverWebhook(webhookRequest({ url: target.baseUrl, webhookId: 'msg_1' }));
    await deliverWebhook(webhookRequest({ url: target.baseUrl, webhookId: 'msg_2' }));

    expect(target.requests).toHaveLength(2);
    expect(target.connectionCount()).toBe(1);
    expect(target.requests[1].remotePort).toBe(target.requests[0].remotePort);
  });

  describe('with private networks disallowed', () => {
    it.each([
      ['an IPv4 loopback literal', (port: number) => `http://127.0.0.1:${port}/`, '127.0.0.1'],
      ['an IPv6 loopback literal', (port: number) => `http://[::1]:${port}/`, '::1'],
      ['an IPv4-mapped IPv6 literal', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`, '::ffff:7f00:1'],
      ['a shorthand IPv4 literal', (port: number) => `http://127.1:${port}/`, '127.0.0.1'],
    ])('refuses %s without connecting', async (_case, urlFor, refusedHost) => {
      const target = await receiver(respondWith(200));

      const result = await deliverWebhook(webhookRequest({ url: urlFor(target.port), allowPrivateNetworks: false }));

      expect(result.statusCode).toBeNull();
      expect(result.error).toBe(`refused: ${refusedHost} resolves to forbidden address ${refusedHost}`);
      expect(classifyAttempt(result)).toBe('rejected');
      expect(target.requests).toHaveLength(0);
      expect(target.connectionCount()).toBe(0);
    });

    it('refuses a hostname that resolves to loopback (checked in the socket lookup)', async () => {
      const target = await receiver(respondWith(200));

      const result = await deliverWebhook(
        webhookRequest({ url: `http://localhost:${target.port}/`, allowPrivateNetworks: false }),
      );

      expect(result.statusCode).toBeNull();
      expect(result.error).toMatch(/^refused: localhost resolves to forbidden address (127\.0\.0\.1|::1)$/);
      expect(classifyAttempt(result)).toBe('rejected');
      expect(target.requests).toHaveLength(0);
      expect(target.connectionCount()).toBe(0);
    });

    it('does not let a pooled socket from a permissive delivery bypass the check', async () => {
      const target = await receiver(respondWith(200));
      const url = `http://localhost:${target.port}/`;

      const allowed = await deliverWebhook(webhookRequest({ url, allowPrivateNetworks: true }));
      const refused = await deliverWebhook(webhookRequest({ url, allowPrivateNetworks: false }));

      expect(allowed.statusCode).toBe(200);
      expect(refused.error).toMatch(/^refused: localhost/);
      expect(target.requests).toHaveLength(1);
    });
  });

  it('reports a refused connection as a retryable network error', async () => {
    const port = await closedPort();

    const result = await deliverWebhook(webhookRequest({ url: `http://127.0.0.1:${port}/` }));

    expect(result.statusCode).toBeNull();
    expect(result.error).toBe(`ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(classifyAttempt(result)).toBe('retryable');
  });

  it.each([
    ['ftp://127.0.0.1/callback', /^invalid url: unsupported scheme "ftp:"/],
    ['file:///etc/passwd', /^invalid url: unsupported scheme "file:"/],
    ['not a url', /^invalid url: cannot parse/],
  ])('rejects %j without sending anything', async (url, expectedError) => {
    const result = await deliverWebhook(webhookRequest({ url }));

    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(expectedError);
    expect(classifyAttempt(result)).toBe('rejected');
  });

  it('returns an error instead of throwing for a header value Node refuses to send', async () => {
    const target = await receiver(respondWith(200));

    const result = await deliverWebhook(webhookRequest({ url: target.baseUrl, webhookId: 'msg\r\ninjected: yes' }));

    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(/^ERR_INVALID_CHAR/);
    expect(target.requests).toHaveLength(0);
  });
});
