import { lookup as dnsLookup } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { urlToHttpOptions } from 'node:url';
import { INVALID_URL_ERROR_PREFIX, REFUSED_ERROR_PREFIX, type WebhookAttemptResult } from './attempt-result';
import { isForbiddenAddress } from './forbidden-address';
import { signStandardWebhook } from './signature';
import { SpanKind, SpanStatusCode, inSpan, markFailed } from '@lrs/tracing';

export interface WebhookRequest {
  url: string;
  /** JSON text, sent byte-for-byte so the signature matches what the receiver reads. */
  body: string;
  /** Stable across retries of the same callback so receivers can deduplicate. */
  webhookId: string;
  /** Bounds the whole attempt: DNS, connect, TLS, response headers and body drain. */
  timeoutMs: number;
  /** Development/test escape hatch for receivers on loopback or private networks. */
  allowPrivateNetworks: boolean;
  signingSecret?: string | null;
  userAgent?: string;
  now?: () => Date;
}

export const DEFAULT_WEBHOOK_USER_AGENT = 'letta-jetstream-callback/1.0';

// Receivers answer callbacks with short acknowledgements; reading further than this only ties
// up the socket, so past the cap the connection is dropped instead of drained.
export const MAX_DRAINED_RESPONSE_BYTES = 64 * 1024;

// setTimeout fires immediately (with a warning) for delays beyond a signed 32-bit int.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export class ForbiddenAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${REFUSED_ERROR_PREFIX} ${host} resolves to forbidden address ${address}`);
    this.name = 'ForbiddenAddressError';
  }
}

/**
 * Resolves like the default lookup but fails the connection when any resolved address is
 * forbidden. Checking inside the socket's own lookup means the address we approve is the one
 * we connect to, so a DNS answer that changes between check and connect (rebinding) cannot
 * slip through. All addresses are checked, not just the first, because Node may fall back to
 * any of them when it races address families.
 */
export const lookupRefusingForbiddenAddresses: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) {
      callback(error, options.all ? [] : '');
      return;
    }
    const forbidden = addresses.find(({ address }) => isForbiddenAddress(address));
    if (forbidden) {
      callback(new ForbiddenAddressError(hostname, forbidden.address), options.all ? [] : '');
      return;
    }
    if (options.all) {
      callback(null, addresses);
    } else {
      callback(null, addresses[0].address, addresses[0].family);
    }
  });
};

// Keep-alive pools: the dispatcher sends on the order of a thousand callbacks per second, often
// to the same few receivers, and a TLS handshake per callback would dominate the cost.
// Guarded and unguarded traffic use separate pools because the agent keys idle sockets by
// host:port only; sharing would let a socket opened without the address check serve a request
// that requires it.
const KEEP_ALIVE_AGENT_OPTIONS = {
  keepAlive: true,
  maxSockets: 256,
  maxFreeSockets: 256,
  scheduling: 'lifo',
  // Close idle sockets before common server keep-alive timeouts (Node's default is 5 s), so we
  // rarely write a callback into a socket the receiver is closing.
  timeout: 4_000,
} as const;

const agents = {
  guarded: {
    'http:': new http.Agent(KEEP_ALIVE_AGENT_OPTIONS),
    'https:': new https.Agent(KEEP_ALIVE_AGENT_OPTIONS),
  },
  unguarded: {
    'http:': new http.Agent(KEEP_ALIVE_AGENT_OPTIONS),
    'https:': new https.Agent(KEEP_ALIVE_AGENT_OPTIONS),
  },
};

/** Drops every pooled connection; for service shutdown so idle sockets do not linger. */
export function closeWebhookConnections(): void {
  for (const pool of [agents.guarded, agents.unguarded]) {
    pool['http:'].destroy();
    pool['https:'].destroy();
  }
}

type SupportedProtocol = 'http:' | 'https:';

interface DeliveryTarget {
  protocol: SupportedProtocol;
  url: URL;
}

function parseDeliveryTarget(rawUrl: string): DeliveryTarget | string {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return `${INVALID_URL_ERROR_PREFIX} cannot parse ${JSON.stringify(rawUrl)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${INVALID_URL_ERROR_PREFIX} unsupported scheme ${JSON.stringify(url.protocol)} (only http: and https: are delivered)`;
  }
  return { protocol: url.protocol, url };
}

/**
 * Makes one delivery attempt and reports what happened. Never rejects: every failure, including
 * refusals and timeouts, comes back as a result so the dispatcher can record it and decide
 * (via classifyAttempt) whether to schedule another attempt. Redirects are not followed; a 3xx
 * is reported as-is, since following one would let a receiver bounce us to a forbidden target.
 * The attempt is an HTTP client span of the run's trace while tracing is on (its host, never the
 * URL, which may hold a secret).
 */
export function deliverWebhook(request: WebhookRequest): Promise<WebhookAttemptResult> {
  const url = URL.parse(request.url);
  const attributes = { 'http.request.method': 'POST', ...(url ? { 'server.address': url.hostname } : {}) };
  return inSpan('POST', { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const result = await attempt(request);
    if (result.statusCode !== null) span.setAttribute('http.response.status_code', result.statusCode);
    if (result.error !== null) markFailed(span, result.error);
    else if (result.statusCode !== null && result.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  });
}

function attempt(request: WebhookRequest): Promise<WebhookAttemptResult> {
  const startedAt = performance.now();
  const elapsedMs = (): number => Math.round(performance.now() - startedAt);
  const failedBeforeSending = (error: string): Promise<WebhookAttemptResult> =>
    Promise.resolve({ statusCode: null, error, durationMs: elapsedMs() });

  const target = parseDeliveryTarget(request.url);
  if (typeof target === 'string') return failedBeforeSending(target);

  const connectOptions = urlToHttpOptions(target.url);
  const host = connectOptions.hostname ?? '';
  // Node skips the lookup function for IP literals, so those are judged here instead.
  if (!request.allowPrivateNetworks && isIP(host) !== 0 && isForbiddenAddress(host)) {
    return failedBeforeSending(new ForbiddenAddressError(host, host).message);
  }

  const timestampSeconds = Math.floor((request.now?.() ?? new Date()).getTime() / 1000);
  const payload = Buffer.from(request.body, 'utf8');
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': payload.byteLength,
    'user-agent': request.userAgent ?? DEFAULT_WEBHOOK_USER_AGENT,
    'webhook-id': request.webhookId,
    'webhook-timestamp': String(timestampSeconds),
  };
  if (request.signingSecret) {
    headers['webhook-signature'] = signStandardWebhook(
      request.signingSecret,
      request.webhookId,
      timestampSeconds,
      request.body,
    );
  }

  const pool = request.allowPrivateNetworks ? agents.unguarded : agents.guarded;
  const transport = target.protocol === 'https:' ? https : http;
  const requestOptions: http.RequestOptions = {
    ...connectOptions,
    method: 'POST',
    headers,
    agent: pool[target.protocol],
    lookup: request.allowPrivateNetworks ? undefined : lookupRefusingForbiddenAddresses,
  };

  return new Promise<WebhookAttemptResult>((resolve) => {
    let statusCode: number | null = null;
    let settled = false;
    let outgoing: http.ClientRequest | undefined;

    const settle = (error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ statusCode, error, durationMs: elapsedMs() });
    };

    const timeoutMs = Math.min(Math.max(1, request.timeoutMs), MAX_TIMER_DELAY_MS);
    const deadline = setTimeout(() => {
      settle(`timeout after ${request.timeoutMs} ms`);
      // Destroying (not just aborting reads) frees the socket; a half-answered keep-alive
      // connection cannot be reused anyway.
      outgoing?.destroy();
    }, timeoutMs);

    try {
      outgoing = transport.request(requestOptions, (response) => {
        statusCode = response.statusCode ?? null;
        let drainedBytes = 0;
        response.on('data', (chunk: Buffer) => {
          drainedBytes += chunk.byteLength;
          if (drainedBytes > MAX_DRAINED_RESPONSE_BYTES) {
            settle(null);
            response.destroy();
          }
        });
        response.on('end', () => settle(null));
        response.on('error', (error) => settle(describeNetworkError(error)));
        response.on('close', () => {
          if (!response.complete) settle('response closed before its body was complete');
        });
      });
      outgoing.on('error', (error) => settle(describeNetworkError(error)));
      outgoing.end(payload);
    } catch (error) {
      // http.request throws synchronously for things like control characters in header values.
      settle(describeNetworkError(error));
      outgoing?.destroy();
    }
  });
}

interface ErrorLike {
  message: string;
  code?: unknown;
  errors?: unknown;
}

// Duck-typed rather than `instanceof Error`: errors raised by Node core can come from another
// realm (e.g. under Jest's VM context), where instanceof checks fail.
function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as ErrorLike).message === 'string';
}

function describeNetworkError(error: unknown): string {
  if (error instanceof ForbiddenAddressError) return error.message;
  if (!isErrorLike(error)) return String(error);
  // When Node races IPv4/IPv6 (autoSelectFamily) a failed connect is an AggregateError with an
  // empty message; the per-address errors carry the useful text.
  const message =
    error.message ||
    (Array.isArray(error.errors)
      ? error.errors.map((inner: unknown) => (isErrorLike(inner) ? inner.message : String(inner))).join('; ')
      : 'unknown error');
  return typeof error.code === 'string' ? `${error.code}: ${message}` : message;
}
