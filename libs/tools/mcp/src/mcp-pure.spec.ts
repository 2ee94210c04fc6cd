import { Readable } from 'node:stream';
import { headersOf, readMcpSettings, stdioRefusal, urlRefusal } from './mcp-config';
import { resultText, toolDefinitions } from './mcp-result';
import { messageBound, ResponseTooLarge } from './guarded-fetch';
import { Env } from '@lrs/config';

const forbidden = (ip: string) => ip.startsWith('127.') || ip.startsWith('10.') || ip === '::1' || ip.startsWith('169.254.');

describe('MCP server configuration checks', () => {
  it('refuses private literals and local names unless private networks are allowed', () => {
    for (const url of ['http://127.0.0.1:3000/mcp', 'http://10.1.2.3/mcp', 'http://[::1]/mcp', 'http://169.254.169.254/latest', 'http://localhost:8080/mcp', 'http://a.localhost/mcp']) {
      expect(urlRefusal(url, { allowPrivateNetworks: false }, forbidden)).toMatchObject({ status: 403, detail: expect.stringContaining('MCP_ALLOW_PRIVATE_NETWORKS') });
      expect(urlRefusal(url, { allowPrivateNetworks: true }, forbidden)).toBeNull();
    }
    expect(urlRefusal('https://mcp.example.com/mcp', { allowPrivateNetworks: false }, forbidden)).toBeNull();
  });

  it('refuses what is not an http(s) URL, and credentials in it', () => {
    expect(urlRefusal('nope', { allowPrivateNetworks: true }, forbidden)).toMatchObject({ status: 422 });
    expect(urlRefusal('file:///etc/passwd', { allowPrivateNetworks: true }, forbidden)).toMatchObject({ status: 422 });
    expect(urlRefusal('https://user:pw@example.com/', { allowPrivateNetworks: true }, forbidden)).toMatchObject({ status: 422 });
  });

  it('allows only listed stdio commands, exactly', () => {
    expect(stdioRefusal('npx', { stdioCommands: [] })).toMatchObject({ status: 403, detail: expect.stringContaining('none is allowed') });
    expect(stdioRefusal('/usr/bin/npx', { stdioCommands: ['npx'] })).toMatchObject({ status: 403 });
    expect(stdioRefusal('npx', { stdioCommands: ['npx', 'uvx'] })).toBeNull();
  });

  it('builds the auth header as Letta does, Bearer by default', () => {
    expect(headersOf({ auth_token: 'tok' })).toEqual({ Authorization: 'Bearer tok' });
    expect(headersOf({ auth_token: 'Bearer tok' })).toEqual({ Authorization: 'Bearer tok' });
    expect(headersOf({ auth_header: 'X-Api-Key', auth_token: 'tok', custom_headers: { 'X-A': '1' } })).toEqual({ 'X-Api-Key': 'tok', 'X-A': '1' });
    expect(headersOf({})).toEqual({});
  });

  it('reads the settings with safe defaults', () => {
    expect(readMcpSettings(new Env({}))).toEqual({ allowPrivateNetworks: false, stdioCommands: [], connectTimeoutMs: 10_000, callTimeoutMs: 60_000, maxResultChars: 200_000 });
    expect(readMcpSettings(new Env({ MCP_STDIO_COMMANDS: 'npx, uvx', MCP_ALLOW_PRIVATE_NETWORKS: 'true' }))).toMatchObject({ stdioCommands: ['npx', 'uvx'], allowPrivateNetworks: true });
  });
});

describe('MCP tool results', () => {
  it('joins text content and names what is not text', () => {
    const text = resultText({ content: [{ type: 'text', text: 'a' }, { type: 'image', mimeType: 'image/png', data: 'xx' }, { type: 'resource', resource: { uri: 'u', text: 'r' } }, { type: 'resource_link', uri: 'file:///x', name: 'x' }] }, 1_000);
    expect(text).toBe('a\n[image content (image/png) omitted]\nr\n[resource link x file:///x]');
  });

  it('falls back to structured content, and cuts long answers saying so', () => {
    expect(resultText({ content: [], structuredContent: { sum: 5 } }, 100)).toBe('{"sum":5}');
    const long = resultText({ content: [{ type: 'text', text: 'y'.repeat(500) }] }, 100);
    expect(long.startsWith('y'.repeat(100) + '...')).toBe(true);
    expect(long).toContain('cut at 100 of its 500');
  });

  it('keeps only well-formed tool definitions', () => {
    expect(toolDefinitions([{ name: 'a', inputSchema: { type: 'object', properties: { x: {} } } }, { nope: 1 }, { name: 'b', description: 'B', inputSchema: [] }])).toEqual([
      { name: 'a', description: '', inputSchema: { type: 'object', properties: { x: {} } } },
      { name: 'b', description: 'B', inputSchema: { type: 'object', properties: {} } },
    ]);
  });
});

describe('messageBound', () => {
  async function read(chunks: string[], limit: number, eventStream: boolean): Promise<string> {
    let out = '';
    for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(messageBound(limit, eventStream))) out += String(chunk);
    return out;
  }

  it('cuts a JSON answer past the bound', async () => {
    await expect(read(['x'.repeat(60), 'x'.repeat(60)], 100, false)).rejects.toBeInstanceOf(ResponseTooLarge);
    await expect(read(['x'.repeat(60)], 100, false)).resolves.toHaveLength(60);
  });

  it('counts an event stream per event, across chunks', async () => {
    const event = `data: ${'x'.repeat(50)}\n\n`;
    await expect(read([event, event, event.slice(0, 30), event.slice(30), `data: y\r\n\r\n`], 80, true)).resolves.toContain('data: y');
    await expect(read([`data: ${'x'.repeat(50)}\n`, `data: ${'x'.repeat(50)}\n\n`], 80, true)).rejects.toBeInstanceOf(ResponseTooLarge);
  });
});
