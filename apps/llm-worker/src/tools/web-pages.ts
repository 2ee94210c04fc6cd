import { Inject, Injectable } from '@nestjs/common';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { convert } from 'html-to-text';
import { ForbiddenAddressError, isForbiddenAddress, lookupRefusingForbiddenAddresses } from '@lrs/webhook-delivery';
import { WORKER_SETTINGS, type WorkerSettings } from '../config/env';

/** Most of a page read (the rest is not read), and most redirects followed. */
const MAX_PAGE_BYTES = 5 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export type PageText = { ok: true; text: string } | { ok: false; error: string };

/**
 * Letta's fetch_webpage: a GET of an address the model chose, so the same guard as callbacks
 * applies (loopback, private and metadata addresses refused, checked on the address actually
 * connected to, redirects included) unless the operator allows private networks. Bounded in
 * time and size; HTML becomes plain text.
 */
@Injectable()
export class WebPages {
  constructor(@Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings) {}

  async fetchText(address: string, signal?: AbortSignal): Promise<PageText> {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return { ok: false, error: `'${address.slice(0, 200)}' is not a URL` };
    }
    for (let redirects = 0; ; redirects++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: `only http and https addresses can be fetched, not ${url.protocol}` };
      const answer = await this.get(url, signal);
      if (!answer.ok) return answer;
      if (answer.location === null) return { ok: true, text: answer.contentType.includes('html') ? convert(answer.body, { wordwrap: false }) : answer.body };
      if (redirects === MAX_REDIRECTS) return { ok: false, error: `more than ${MAX_REDIRECTS} redirects` };
      url = new URL(answer.location, url);
    }
  }

  private get(url: URL, signal?: AbortSignal): Promise<{ ok: true; body: string; contentType: string; location: string | null } | { ok: false; error: string }> {
    // The sandbox's switch for tools' own connections (TOOL_NETWORK_ALLOW_PRIVATE) applies here too.
    const allowPrivate = this.settings.sandbox.network.allowPrivateNetworks;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // Node skips the lookup for IP literals: those are judged here.
    if (!allowPrivate && isIP(host) !== 0 && isForbiddenAddress(host)) return Promise.resolve({ ok: false, error: new ForbiddenAddressError(host, host).message });
    return new Promise((resolve) => {
      const transport = url.protocol === 'https:' ? https : http;
      const request = transport.get(
        url,
        { lookup: allowPrivate ? undefined : lookupRefusingForbiddenAddresses, timeout: this.settings.fetchWebpageTimeoutMs, signal, headers: { 'user-agent': 'letta-jetstream-fetch/1.0', accept: 'text/html, text/plain;q=0.9, */*;q=0.5' } },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status >= 300 && status < 400 && response.headers.location) {
            response.resume();
            resolve({ ok: true, body: '', contentType: '', location: response.headers.location });
            return;
          }
          if (status >= 400) {
            response.resume();
            resolve({ ok: false, error: `the page answered HTTP ${status}` });
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_PAGE_BYTES) {
              response.destroy();
              return;
            }
            chunks.push(chunk);
          });
          response.on('close', () => resolve({ ok: true, body: Buffer.concat(chunks).toString('utf8'), contentType: String(response.headers['content-type'] ?? ''), location: null }));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${this.settings.fetchWebpageTimeoutMs} ms`)));
      request.on('error', (error) => resolve({ ok: false, error: `the page could not be fetched: ${error.message}` }));
    });
  }
}
