/**
 * Synchronous HTTP for tools when TOOL_NETWORK=true. Python (and QuickJS) code is synchronous, so
 * a call blocks the child's main thread in Atomics.wait on a SharedArrayBuffer while a worker
 * thread of the child does the request and writes the answer into that buffer. The worker runs
 * only the code below and receives only request data; it refuses private, loopback, link-local and
 * other special-purpose addresses (checked on every address a name resolves to, and again on every
 * redirect) unless TOOL_NETWORK_ALLOW_PRIVATE=true.
 *
 * The address rules follow libs/webhooks/delivery's isForbiddenAddress; they are restated here
 * because the worker is a self-contained script and an infra lib may not import another one.
 */
import { Worker } from 'node:worker_threads';

export interface HttpBridgeOptions {
  allowPrivateNetworks: boolean;
  /** Largest response body kept; a longer one is an error. */
  maxBodyBytes: number;
}

const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const dns = require('node:dns');
const net = require('node:net');
const { allowPrivate, maxBodyBytes } = workerData;

const v4 = new net.BlockList();
for (const [base, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]]) {
  v4.addSubnet(base, prefix, 'ipv4');
}
const v6 = new net.BlockList();
for (const [base, prefix] of [['::', 96], ['64:ff9b:1::', 48], ['2001::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32]]) {
  v6.addSubnet(base, prefix, 'ipv6');
}
function groups(address) {
  const [head, tail] = address.split('::');
  const part = (s) => (s ? s.split(':') : []);
  let h = part(head), t = tail === undefined ? [] : part(tail);
  const expand = (list) => list.flatMap((g) => g.includes('.') ? (() => { const n = g.split('.').map(Number); return [((n[0] << 8) | n[1]).toString(16), ((n[2] << 8) | n[3]).toString(16)]; })() : [g]);
  h = expand(h); t = expand(t);
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}
function embedded(hi, lo) { return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'); }
function forbidden(raw) {
  const address = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(address);
  if (family === 4) return v4.check(address, 'ipv4');
  if (family !== 6) return true;
  const g = groups(address);
  const zero5 = g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0;
  if (zero5 && (g[5] === 0xffff || g[5] === 0)) return g[5] === 0 && g[6] === 0 && g[7] <= 1 ? true : v4.check(embedded(g[6], g[7]), 'ipv4');
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0) return v4.check(embedded(g[6], g[7]), 'ipv4');
  if (g[0] === 0x2002) return v4.check(embedded(g[1], g[2]), 'ipv4');
  return v6.check(address, 'ipv6');
}
function refusal(host, address) {
  const error = new Error('refused: ' + host + ' is a private, loopback or otherwise internal address (' + address + '); TOOL_NETWORK_ALLOW_PRIVATE=true allows it');
  error.code = 'EFORBIDDEN';
  return error;
}
function lookup(hostname, options, callback) {
  dns.lookup(hostname, { all: true }, (error, addresses) => {
    if (error) return callback(error);
    const bad = allowPrivate ? undefined : addresses.find((a) => forbidden(a.address));
    if (bad) return callback(refusal(hostname, bad.address));
    if (options && options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}
function once(request, url) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return reject(new Error('only http and https URLs are supported, not ' + target.protocol));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) && !allowPrivate && forbidden(host)) return reject(refusal(host, host));
    const body = request.bodyBase64 != null ? Buffer.from(request.bodyBase64, 'base64') : request.bodyText != null ? Buffer.from(request.bodyText, 'utf8') : null;
    const headers = Object.assign({}, request.headers || {});
    if (body && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) headers['content-length'] = String(body.length);
    const req = (target.protocol === 'https:' ? https : http).request(target, { method: request.method, headers, lookup, timeout: request.timeoutMs }, (res) => {
      const chunks = []; let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > maxBodyBytes) { req.destroy(new Error('the response is larger than ' + maxBodyBytes + ' bytes')); return; }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode, reason: res.statusMessage || '', headers: res.headers, body: Buffer.concat(chunks), url }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('the request timed out after ' + request.timeoutMs + ' ms')));
    req.on('error', reject);
    req.end(body || undefined);
  });
}
async function perform(request) {
  let url = request.url;
  let current = request;
  for (let hop = 0; hop <= 5; hop++) {
    const res = await once(current, url);
    const location = res.headers.location;
    if (request.followRedirects !== false && location && [301, 302, 303, 307, 308].includes(res.status)) {
      url = new URL(location, url).toString();
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && current.method === 'POST')) current = Object.assign({}, current, { method: 'GET', bodyBase64: null, bodyText: null });
      continue;
    }
    const headers = {};
    for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    return { status: res.status, reason: res.reason, headers, url: res.url, bodyBase64: request.as === 'text' ? undefined : res.body.toString('base64'), text: request.as === 'text' ? res.body.toString('utf8') : undefined };
  }
  throw new Error('too many redirects');
}
parentPort.on('message', async ({ request, shared }) => {
  let reply;
  try { reply = await perform(request); } catch (error) { reply = { error: error.message, code: error.code || null }; }
  const bytes = Buffer.from(JSON.stringify(reply), 'utf8');
  const control = new Int32Array(shared, 0, 2);
  const data = new Uint8Array(shared, 8);
  if (bytes.length > data.length) {
    const small = Buffer.from(JSON.stringify({ error: 'the response does not fit the sandbox buffer' }), 'utf8');
    data.set(small); control[1] = small.length;
  } else { data.set(bytes); control[1] = bytes.length; }
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
});
`;

/** Starts the worker; the returned function does one request synchronously (JSON in, JSON out). */
export function startHttpBridge(options: HttpBridgeOptions): (requestJson: string) => string {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { allowPrivate: options.allowPrivateNetworks, maxBodyBytes: options.maxBodyBytes } });
  worker.unref();
  // Base64 and JSON grow a body by about 4/3; the rest is headers.
  const shared = new SharedArrayBuffer(8 + Math.ceil(options.maxBodyBytes * 1.4) + 64 * 1024);
  const control = new Int32Array(shared, 0, 2);
  return (requestJson: string): string => {
    const request = JSON.parse(requestJson) as { timeoutMs?: number };
    Atomics.store(control, 0, 0);
    worker.postMessage({ request, shared });
    const waited = Atomics.wait(control, 0, 0, (request.timeoutMs ?? 30_000) + 5_000);
    if (waited === 'timed-out') return JSON.stringify({ error: 'the request did not finish in time' });
    const length = control[1];
    return new TextDecoder().decode(new Uint8Array(shared, 8, length).slice());
  };
}
