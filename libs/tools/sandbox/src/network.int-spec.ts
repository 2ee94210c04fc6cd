import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ToolSandbox } from './tool-sandbox';
import type { SandboxSettings, ToolInvocation } from './types';

// TOOL_NETWORK=true: HTTP through the child's worker thread. The only server here is on loopback,
// so the refusal of private addresses is what a default pool shows, and a pool that allows them
// reaches it. One process per pool keeps the cold starts to two.
const base: SandboxSettings = {
  processes: 1,
  timeoutMs: 8_000,
  memoryLimitBytes: 450 * 1024 * 1024,
  maxOutputChars: 2_000,
  network: { enabled: true, allowPrivateNetworks: false },
};
let server: Server;
let url: string;
const refusing = new ToolSandbox(base);
const allowing = new ToolSandbox({ ...base, network: { enabled: true, allowPrivateNetworks: true } });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/missing') {
        res.writeHead(404).end('nope');
        return;
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/echo?from=redirect' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-seen': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, auth: req.headers.authorization ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all([refusing.close(), allowing.close()]);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const py = (sourceCode: string, args: Record<string, unknown>): ToolInvocation => ({ language: 'python', sourceCode, functionName: 'f', args, env: {}, affinity: 'agent-net' });

test('loopback and private addresses are refused unless TOOL_NETWORK_ALLOW_PRIVATE', async () => {
  const python = await refusing.run(py('import requests\ndef f(url: str):\n    return requests.get(url).text\n', { url: `${url}/echo` }));
  expect(python).toMatchObject({ status: 'error', errorType: 'ConnectionError' });
  expect(python.returnValue).toContain('TOOL_NETWORK_ALLOW_PRIVATE');
  const byName = await refusing.run(py('import urllib.request\ndef f(url: str):\n    return urllib.request.urlopen(url).read()\n', { url: url.replace('127.0.0.1', 'localhost') }));
  expect(byName).toMatchObject({ status: 'error', errorType: 'URLError' });
  const js = await refusing.run({ language: 'javascript', sourceCode: 'async function f({ url }) { const r = await fetch(url); return r.status; }', functionName: 'f', args: { url }, env: {}, affinity: 'agent-net' });
  expect(js).toMatchObject({ status: 'error', errorType: 'TypeError' });
  expect(js.returnValue).toContain('TOOL_NETWORK_ALLOW_PRIVATE');
  const socket = await refusing.run(py('import socket\ndef f(url: str):\n    socket.socket()\n', { url }));
  expect(socket).toMatchObject({ status: 'error', errorType: 'NetworkDisabledError' });
});

test('with private networks allowed, requests, urllib and fetch work synchronously', async () => {
  const tool = `
import requests, urllib.request, json
def f(url: str):
    r = requests.post(url + "/echo", params={"q": "a b"}, json={"x": 1}, headers={"Authorization": "Bearer t"}, timeout=5)
    r.raise_for_status()
    missing = requests.get(url + "/missing")
    try:
        missing.raise_for_status()
        raised = False
    except requests.exceptions.HTTPError:
        raised = True
    redirected = requests.get(url + "/redirect").json()["url"]
    with urllib.request.urlopen(url + "/echo") as u:
        via_urllib = json.loads(u.read())["method"]
    return [r.status_code, r.ok, r.headers["X-Seen"], r.json(), missing.status_code, raised, redirected, via_urllib]
`;
  const result = await allowing.run(py(tool, { url }));
  expect(result.status).toBe('success');
  expect(JSON.parse(result.returnValue)).toEqual([
    200,
    true,
    'yes',
    { method: 'POST', url: '/echo?q=a+b', body: '{"x": 1}', auth: 'Bearer t' },
    404,
    true,
    '/echo?from=redirect',
    'GET',
  ]);
  const js = await allowing.run({
    language: 'typescript',
    sourceCode: 'export async function f(url: string): Promise<string> { const r = await fetch(url + "/echo", { method: "PUT", body: "hi" }); const j: { body: string } = await r.json(); return `${r.status} ${r.headers.get("x-seen")} ${j.body}`; }',
    functionName: 'f',
    args: { url },
    env: {},
    affinity: 'agent-net',
  });
  expect(js).toMatchObject({ status: 'success', returnValue: '200 yes hi' });
});
