import { HttpException } from '@nestjs/common';
import type { McpServerSnapshot } from '@lrs/read-model';
import { requireAllowed, serverFieldsOf, toMcpServerView } from './mcp-server-config';

const stored: McpServerSnapshot = {
  id: 'mcp_server-00000000-0000-4000-8000-000000000001',
  organizationId: 'org-1',
  serverName: 'docs',
  serverType: 'streamable_http',
  serverUrl: 'https://mcp.example.com/mcp',
  authHeader: null,
  authToken: 'secret-token',
  customHeaders: { 'X-Team': 'team-secret' },
  command: null,
  args: null,
  env: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

const statusOf = (work: () => unknown): number | null => {
  try {
    work();
    return null;
  } catch (error) {
    return error instanceof HttpException ? error.getStatus() : -1;
  }
};

describe('MCP server configuration from requests', () => {
  it('masks every secret in the view', () => {
    const view = toMcpServerView(stored);
    expect(view).toMatchObject({ auth_token: '********', custom_headers: { 'X-Team': '********' }, server_url: 'https://mcp.example.com/mcp', mcp_server_type: 'streamable_http' });
    expect(JSON.stringify(view)).not.toContain('secret');
    const stdio = toMcpServerView({ ...stored, serverType: 'stdio', serverUrl: null, authToken: null, customHeaders: null, command: 'npx', args: ['-y', 'x'], env: { KEY: 'env-secret' } });
    expect(stdio).toEqual({ id: stored.id, server_name: 'docs', mcp_server_type: 'stdio', command: 'npx', args: ['-y', 'x'], env: { KEY: '********' } });
  });

  it('keeps a stored secret written back masked, and changes only what is given', () => {
    const fields = serverFieldsOf({ server_url: 'https://other.example.com/mcp', auth_token: '********', custom_headers: { 'X-Team': '********', 'X-New': 'n' } }, stored);
    expect(fields).toMatchObject({ serverType: 'streamable_http', serverUrl: 'https://other.example.com/mcp', authToken: 'secret-token', customHeaders: { 'X-Team': 'team-secret', 'X-New': 'n' } });
    expect(serverFieldsOf({}, stored)).toMatchObject({ serverUrl: stored.serverUrl, authToken: 'secret-token', customHeaders: stored.customHeaders });
    expect(serverFieldsOf({ mcp_server_type: 'sse' }, stored)).toMatchObject({ serverType: 'sse', serverUrl: stored.serverUrl, authToken: 'secret-token' });
  });

  it('infers the type, and refuses fields of another type or a missing address or command', () => {
    expect(serverFieldsOf({ command: 'npx', args: ['x'] }, null)).toMatchObject({ serverType: 'stdio', command: 'npx', args: ['x'], serverUrl: null });
    expect(serverFieldsOf({ server_url: 'https://a.example.com/' }, null)).toMatchObject({ serverType: 'streamable_http' });
    expect(statusOf(() => serverFieldsOf({}, null))).toBe(422);
    expect(statusOf(() => serverFieldsOf({ mcp_server_type: 'stdio', server_url: 'https://a.example.com/' }, null))).toBe(422);
    expect(statusOf(() => serverFieldsOf({ mcp_server_type: 'stdio' }, stored))).toBe(422);
    expect(statusOf(() => serverFieldsOf({ server_url: 'https://a.example.com/', custom_headers: { 'X-A': 'a\r\nb' } }, null))).toBe(422);
    expect(statusOf(() => serverFieldsOf({ server_url: 'https://a.example.com/', auth_token: '😀' }, null))).toBe(422);
    expect(statusOf(() => serverFieldsOf({ command: 'npx', env: { 'BAD NAME': 'x' } }, null))).toBe(422);
  });

  it("applies the operator's rules", () => {
    const settings = { allowPrivateNetworks: false, stdioCommands: ['npx'], connectTimeoutMs: 1, callTimeoutMs: 1, maxResultChars: 1_000 };
    expect(statusOf(() => requireAllowed(serverFieldsOf({ server_url: 'http://127.0.0.1:3000/mcp' }, null), settings))).toBe(403);
    expect(statusOf(() => requireAllowed(serverFieldsOf({ command: 'bash' }, null), settings))).toBe(403);
    expect(statusOf(() => requireAllowed(serverFieldsOf({ command: 'npx' }, null), settings))).toBeNull();
    expect(statusOf(() => requireAllowed(serverFieldsOf({ server_url: 'https://mcp.example.com/' }, null), settings))).toBeNull();
  });
});
