import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface GuardedFetchOptions {
  /** Refuses forbidden addresses inside the socket's own lookup (so the address judged is the one connected to); undefined: any address. */
  lookup?: LookupFunction;
  /** Judges an IP literal host, which Node connects to without a lookup; undefined: any address. */
  isForbiddenAddress?: (ip: string) => boolean;
  /** The most a JSON answer, or one event of an event stream, may hold before the stream is cut. */
  maxMessageBytes: number;
  /** Kept connections, shared by the calls to one server. */
  agents: { http: http.Agent; https: https.Agent };
}

export class ResponseTooLarge extends Error {
  constructor(limit: number) {
    super(`the MCP server sent a message of more than ${limit} bytes`);
    this.name = 'ResponseTooLarge';
  }
}

/**
 * The `fetch` the MCP SDK's HTTP transports are given: node's http client, so that the private
 * address guard runs in the connection's lookup (global fetch has no such hook), redirects are not
 * followed (a redirect to a private address would otherwise pass the guard's first judgment), and
 * a message larger than the bound is cut instead of read whole into memory.
 */
export function guardedFetch(options: GuardedFetchOptions): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new Error(`only http and https MCP servers are supported, not ${url.protocol}`));
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (options.isForbiddenAddress && isIP(host) !== 0 && options.isForbiddenAddress(host)) {
        return reject(new Error(`refused: ${host} is a forbidden address (loopback, private, link-local or metadata)`));
      }
      const secure = url.protocol === 'https:';
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const body = init.body === undefined || init.body === null ? undefined : typeof init.body === 'string' ? init.body : null;
      if (body === null) return reject(new Error('the MCP client sent a request body that is not text'));
      if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const request = (secure ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers, agent: secure ? options.agents.https : options.agents.http, lookup: options.lookup, signal: init.signal ?? undefined },
        (response) => {
          const status = response.statusCode ?? 500;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value === undefined) continue;
            for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
          }
          const eventStream = (response.headers['content-type'] ?? '').includes('text/event-stream');
          const noBody = status === 204 || status === 304 || init.method === 'HEAD';
          if (noBody) response.resume();
          const bounded = noBody ? null : (Readable.toWeb(response.pipe(messageBound(options.maxMessageBytes, eventStream))) as WebReadableStream<Uint8Array>);
          // `Response` takes statuses 200-599 only; anything else is the server's error all the same.
          resolve(new Response(bounded as unknown as ReadableStream, { status: status >= 200 && status <= 599 ? status : 502, statusText: response.statusMessage, headers: responseHeaders }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
}

/** Counts bytes of one message (the whole answer, or one event of a stream, up to its blank line) and fails the stream past the bound. */
export function messageBound(limit: number, eventStream: boolean): Transform {
  let size = 0;
  // The two bytes before the current one, across chunks.
  let previous = -1;
  let beforePrevious = -1;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!eventStream) {
        size += chunk.length;
      } else {
        // The size since the last event boundary: "\n\n", or "\n\r\n" (the end of "\r\n\r\n").
        let start = 0;
        for (let index = 0; index < chunk.length; index++) {
          const byte = chunk[index];
          if (byte === 0x0a && (previous === 0x0a || (previous === 0x0d && beforePrevious === 0x0a))) {
            // The event that ends here is judged whole before the count starts again.
            if (size + index + 1 - start > limit) return done(new ResponseTooLarge(limit));
            size = 0;
            start = index + 1;
          }
          beforePrevious = previous;
          previous = byte;
        }
        size += chunk.length - start;
      }
      if (size > limit) return done(new ResponseTooLarge(limit));
      done(null, chunk);
    },
  });
}
