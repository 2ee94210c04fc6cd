import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { resolve } from 'node:path';
import { McpConnections } from './mcp-connections';
import type { McpServerConfig, McpSettings } from './mcp-config';

const EVERYTHING = resolve(__dirname, '../../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js');

const settings: McpSettings = { allowPrivateNetworks: true, stdioCommands: [process.execPath], connectTimeoutMs: 5_000, callTimeoutMs: 3_000, maxResultChars: 5_000 };
const noLookup: LookupFunction = () => {
  throw new Error('not used with private networks allowed');
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

async function startEverything(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error('server-everything did not start')), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        ready();
      }
    });
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

describe('McpConnections against server-everything', () => {
  let port: number;
  let server: ChildProcess;
  let connections: McpConnections;
  let http: McpServerConfig;

  beforeAll(async () => {
    port = await freePort();
    server = await startEverything(port);
    http = { type: 'streamable_http', url: `http://127.0.0.1:${port}/mcp`, headers: {} };
  }, 30_000);

  beforeEach(() => {
    connections = new McpConnections({ settings, isForbiddenAddress: () => false, lookup: noLookup });
  });

  afterEach(() => connections.close());
  afterAll(() => stop(server));

  it('lists tools and calls one over streamable HTTP, reusing the connection', async () => {
    const tools = await connections.listTools('s1', http);
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(tools.find((tool) => tool.name === 'echo')!.inputSchema).toMatchObject({ type: 'object', properties: { message: expect.anything() } });
    await expect(connections.callTool('s1', http, 'echo', { message: 'hi' })).resolves.toEqual({ isError: false, text: 'Echo: hi' });
    await expect(connections.callTool('s1', http, 'get-sum', { a: 2, b: 3 })).resolves.toEqual({ isError: false, text: expect.stringContaining('5') });
  });

  it('answers a server error for bad arguments, and the connection stays usable', async () => {
    const bad = await connections.callTool('s1', http, 'get-sum', { a: 'x' }).then(
      (result) => result,
      (error: Error) => ({ isError: true, text: error.message }),
    );
    expect(bad.isError).toBe(true);
    await expect(connections.callTool('s1', http, 'echo', { message: 'again' })).resolves.toEqual({ isError: false, text: 'Echo: again' });
  });

  it('cuts a huge result to the bound', async () => {
    const result = await connections.callTool('s1', http, 'echo', { message: 'x'.repeat(20_000) });
    expect(result.text.length).toBeLessThan(5_200);
    expect(result.text).toContain('was cut at 5000');
  });

  it('times out a slow call and a server that is gone, then works when the server is back', async () => {
    await expect(connections.callTool('s1', http, 'trigger-long-running-operation', { duration: 10, steps: 2 })).rejects.toThrow(/timed out|within/i);
    await expect(connections.callTool('s1', http, 'echo', { message: 'after timeout' })).resolves.toMatchObject({ text: 'Echo: after timeout' });
    await stop(server);
    await expect(connections.callTool('s1', http, 'echo', { message: 'down' })).rejects.toThrow(/ECONNREFUSED|ECONNRESET|hang up|connect/i);
    server = await startEverything(port);
    await expect(connections.callTool('s1', http, 'echo', { message: 'back' })).resolves.toEqual({ isError: false, text: 'Echo: back' });
    // A restart between two calls: the kept session is unknown to the new process, the call goes again on a new connection.
    await stop(server);
    server = await startEverything(port);
    await expect(connections.callTool('s1', http, 'echo', { message: 'new session' })).resolves.toEqual({ isError: false, text: 'Echo: new session' });
  }, 40_000);

  it('runs a stdio server with a clean environment plus its own', async () => {
    process.env.MCP_TEST_SERVICE_SECRET = 'service-only';
    const stdio: McpServerConfig = { type: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], env: { GIVEN: 'by-server' } };
    try {
      const result = await connections.callTool('s2', stdio, 'get-env', {});
      expect(result.text).toContain('by-server');
      expect(result.text).not.toContain('service-only');
    } finally {
      delete process.env.MCP_TEST_SERVICE_SECRET;
    }
  }, 20_000);

  it('refuses a stdio command outside the allowlist and a private address when not allowed, before connecting', async () => {
    const strict = new McpConnections({ settings: { ...settings, allowPrivateNetworks: false, stdioCommands: [] }, isForbiddenAddress: (ip) => ip.startsWith('127.'), lookup: noLookup });
    await expect(strict.listTools('s3', { type: 'stdio', command: 'sh', args: [], env: {} })).rejects.toThrow(/allowlist/);
    await expect(strict.listTools('s4', http)).rejects.toThrow(/127\.0\.0\.1/);
    await strict.close();
  });
});
