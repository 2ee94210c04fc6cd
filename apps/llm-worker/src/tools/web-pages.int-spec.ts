import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerSettings } from '../config/env';
import { WebPages } from './web-pages';

/** fetch_webpage's fetcher against a real HTTP server on loopback. */
describe('WebPages', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/page') {
        response.setHeader('content-type', 'text/html; charset=utf-8');
        response.end('<html><head><title>T</title><script>secret()</script></head><body><h1>Hello</h1><p>A <b>bold</b> claim.</p></body></html>');
      } else if (request.url?.startsWith('/loop')) {
        response.statusCode = 302;
        response.setHeader('location', `/loop${Number(request.url.slice(5) || 0) + 1}`);
        response.end();
      } else if (request.url === '/to-page') {
        response.statusCode = 301;
        response.setHeader('location', '/page');
        response.end();
      } else {
        response.statusCode = 404;
        response.end('nope');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const pages = (allowPrivateNetworks: boolean) =>
    new WebPages({ sandbox: { network: { enabled: false, allowPrivateNetworks } }, fetchWebpageTimeoutMs: 5_000 } as unknown as WorkerSettings);

  it('refuses loopback and private addresses unless the operator allows them', async () => {
    const refused = await pages(false).fetchText(`${base}/page`);
    expect(refused).toEqual({ ok: false, error: expect.stringContaining('forbidden address 127.0.0.1') });
    expect(await pages(false).fetchText('http://localhost:9/x')).toEqual({ ok: false, error: expect.stringMatching(/forbidden address|could not be fetched/) });
  });

  it('turns HTML into text, follows a redirect, and bounds redirects', async () => {
    const page = await pages(true).fetchText(`${base}/to-page`);
    expect(page.ok).toBe(true);
    const text = page.ok ? page.text : '';
    expect(text).toContain('HELLO');
    expect(text).toContain('A bold claim.');
    expect(text).not.toContain('<');
    expect(text).not.toContain('secret()');
    expect(await pages(true).fetchText(`${base}/loop`)).toEqual({ ok: false, error: 'more than 5 redirects' });
  });

  it('answers an error for a missing page, another scheme, or no URL at all', async () => {
    expect(await pages(true).fetchText(`${base}/missing`)).toEqual({ ok: false, error: 'the page answered HTTP 404' });
    expect(await pages(true).fetchText('file:///etc/passwd')).toEqual({ ok: false, error: 'only http and https addresses can be fetched, not file:' });
    expect(await pages(true).fetchText('not a url')).toEqual({ ok: false, error: "'not a url' is not a URL" });
  });
});
