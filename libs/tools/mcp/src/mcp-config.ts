import { isIP } from 'node:net';
import { Env } from '@lrs/config';

/** Letta's three kinds of MCP server connection. */
export const MCP_SERVER_TYPES = ['streamable_http', 'sse', 'stdio'] as const;
export type McpServerType = (typeof MCP_SERVER_TYPES)[number];

/** How to reach one registered server: what the client needs, secrets included (never shown by the API). */
export type McpServerConfig =
  | { type: 'streamable_http' | 'sse'; url: string; headers: Record<string, string> }
  | { type: 'stdio'; command: string; args: string[]; env: Record<string, string> };

/** The operator's settings, read the same way by the gateway (to refuse at registration) and the llm-worker (to enforce at connection). */
export interface McpSettings {
  /** Loopback, private, link-local and metadata addresses are allowed (tests, a server on the same host). */
  allowPrivateNetworks: boolean;
  /** Commands a stdio server may run, exactly as given in `command`; none by default. */
  stdioCommands: string[];
  connectTimeoutMs: number;
  callTimeoutMs: number;
  /** The most text a tool's result hands to the model (and keeps in memory past the call). */
  maxResultChars: number;
}

export function readMcpSettings(env = new Env()): McpSettings {
  return {
    allowPrivateNetworks: env.bool('MCP_ALLOW_PRIVATE_NETWORKS', false),
    stdioCommands: env.list('MCP_STDIO_COMMANDS'),
    connectTimeoutMs: env.int('MCP_CONNECT_TIMEOUT_MS', 10_000, { min: 100, max: 300_000 }),
    callTimeoutMs: env.int('MCP_CALL_TIMEOUT_MS', 60_000, { min: 100, max: 3_600_000 }),
    maxResultChars: env.int('MCP_MAX_RESULT_CHARS', 200_000, { min: 1_000, max: 10_000_000 }),
  };
}

/** Why a configuration may not be used (an HTTP status and a Letta detail), or null. */
export interface McpRefusal {
  status: 403 | 422;
  detail: string;
}

/** The host names that always mean this machine, refused like loopback addresses before any lookup. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/i;

/**
 * What can be judged of a server address without a lookup: an http(s) URL whose host is not a
 * forbidden IP literal nor a name of this machine. Names are judged again on every connection,
 * on the address actually connected to (`guardedFetch`), since DNS may answer differently later.
 */
export function urlRefusal(address: string, settings: Pick<McpSettings, 'allowPrivateNetworks'>, isForbiddenAddress: (ip: string) => boolean): McpRefusal | null {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return { status: 422, detail: `Invalid request: server_url '${address.slice(0, 200)}' is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { status: 422, detail: `Invalid request: server_url must be an http or https URL, not ${url.protocol}` };
  if (url.username || url.password) return { status: 422, detail: 'Invalid request: server_url must not carry credentials; use auth_header and auth_token' };
  if (settings.allowPrivateNetworks) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if ((isIP(host) !== 0 && isForbiddenAddress(host)) || LOCAL_NAMES.test(host)) {
    return { status: 403, detail: `Forbidden: MCP server address ${host} is a loopback, private or link-local address, which this server does not connect to (the operator may allow it with MCP_ALLOW_PRIVATE_NETWORKS)` };
  }
  return null;
}

/** A stdio server runs a process on the server's machine: only commands the operator listed may. */
export function stdioRefusal(command: string, settings: Pick<McpSettings, 'stdioCommands'>): McpRefusal | null {
  if (settings.stdioCommands.includes(command)) return null;
  const listed = settings.stdioCommands.length ? `; allowed: ${settings.stdioCommands.join(', ')}` : ' (none is allowed on this server)';
  return { status: 403, detail: `Forbidden: stdio MCP server command '${command.slice(0, 200)}' is not in the operator's allowlist (MCP_STDIO_COMMANDS)${listed}` };
}

/** Refusal of a whole configuration, as both services judge it. */
export function configRefusal(config: McpServerConfig, settings: McpSettings, isForbiddenAddress: (ip: string) => boolean): McpRefusal | null {
  return config.type === 'stdio' ? stdioRefusal(config.command, settings) : urlRefusal(config.url, settings, isForbiddenAddress);
}

/** The HTTP headers a server is sent: Letta's `auth_header: auth_token` (Authorization: Bearer … by default) and its custom headers. */
export function headersOf(input: { auth_header?: string | null; auth_token?: string | null; custom_headers?: Record<string, string> | null }): Record<string, string> {
  const headers: Record<string, string> = { ...(input.custom_headers ?? {}) };
  if (input.auth_token) {
    const name = input.auth_header || 'Authorization';
    headers[name] = name.toLowerCase() === 'authorization' && !/^\w+\s/.test(input.auth_token) ? `Bearer ${input.auth_token}` : input.auth_token;
  }
  return headers;
}
