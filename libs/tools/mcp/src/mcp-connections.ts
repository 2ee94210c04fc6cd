import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { configRefusal, type McpServerConfig, type McpSettings } from './mcp-config';
import { resultText, toolDefinitions, type McpToolDefinition, type McpToolResult } from './mcp-result';
import { guardedFetch } from './guarded-fetch';

export interface McpConnectionsOptions {
  settings: McpSettings;
  /** Judges IP literals and, through `lookup`, every address connected to, unless private networks are allowed. */
  isForbiddenAddress: (ip: string) => boolean;
  lookup: LookupFunction;
  logger?: { log(message: string): void; warn(message: string): void };
  /** The most one message from a server may hold (HTTP transports); default 4 × the result bound, at least 1 MiB. */
  maxMessageBytes?: number;
  /** A connection unused this long is closed (a stdio server's process ends); default 5 minutes, 0: never. */
  idleCloseMs?: number;
}

/** A server the client may not or could not talk to: the message says why, without its secrets. */
export class McpServerError extends Error {
  /** The streamable HTTP endpoint answered 4xx at connect: the server may speak the older SSE protocol. */
  fallback = false;

  constructor(
    message: string,
    /** The request never reached the server (refused connection, unknown session): safe to send again on a new connection. */
    readonly undelivered = false,
  ) {
    super(message);
    this.name = 'McpServerError';
  }
}

interface Connection {
  fingerprint: string;
  client: Client;
  closed: boolean;
  lastUsed: number;
  /** Calls in flight: a busy connection is never idle. */
  busy: number;
}

/** The most tool-list pages read from one server (a server that pages forever cannot hold the worker). */
const MAX_TOOL_PAGES = 20;
const CLIENT_INFO = { name: 'letta-jetstream-server', version: '1.0.0' };

/**
 * The MCP client side of this process: one connection per registered server, opened on first
 * use, kept and reused by every call, and dropped when it fails or its server's configuration
 * changes, so the next call connects anew. Every connect and call has a deadline, and a run's
 * cancel aborts its call: a server that is down, slow or silent costs a tool call an error
 * result, never a held worker.
 */
export class McpConnections {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  private readonly sweeper: NodeJS.Timeout | null;

  constructor(private readonly options: McpConnectionsOptions) {
    const idleMs = options.idleCloseMs ?? 5 * 60_000;
    // Servers deleted or no longer used keep no connection (nor process) for ever.
    this.sweeper = idleMs > 0 ? setInterval(() => void this.closeIdle(idleMs), Math.min(idleMs, 60_000)) : null;
    this.sweeper?.unref();
  }

  private async closeIdle(idleMs: number): Promise<void> {
    for (const [key, pending] of [...this.connections]) {
      const connection = await pending.catch(() => null);
      if (connection && connection.busy === 0 && Date.now() - connection.lastUsed > idleMs && this.connections.get(key) === pending) await this.forget(key);
    }
  }

  /** The server's tools (every page of them). */
  async listTools(key: string, config: McpServerConfig, signal?: AbortSignal): Promise<McpToolDefinition[]> {
    return this.withConnection(key, config, signal, async (client) => {
      const tools: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const answer = await this.bounded(client.listTools(cursor ? { cursor } : undefined, this.requestOptions(signal)), this.options.settings.callTimeoutMs, 'list its tools');
        tools.push(...(answer.tools ?? []));
        cursor = answer.nextCursor;
        if (!cursor) break;
      }
      return toolDefinitions(tools);
    });
  }

  /** Calls one tool; the server's own error (`isError`) is a result, a server that fails to answer throws McpServerError. */
  async callTool(key: string, config: McpServerConfig, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<McpToolResult> {
    return this.withConnection(key, config, signal, async (client) => {
      const answer = await this.bounded(client.callTool({ name, arguments: args }, undefined, this.requestOptions(signal)), this.options.settings.callTimeoutMs, `run its tool '${name}'`);
      return { isError: answer.isError === true, text: resultText(answer, this.options.settings.maxResultChars) };
    });
  }

  /** Closes the server's connection (its configuration changed or it was deleted); the next use connects anew. */
  async forget(key: string): Promise<void> {
    const pending = this.connections.get(key);
    this.connections.delete(key);
    if (pending) await pending.then((connection) => this.shut(connection)).catch(() => undefined);
  }

  /** Closes every connection (and ends every stdio server's process): the service is stopping. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled([...this.connections.keys()].map((key) => this.forget(key)));
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async withConnection<T>(key: string, config: McpServerConfig, signal: AbortSignal | undefined, work: (client: Client) => Promise<T>): Promise<T> {
    const refusal = configRefusal(config, this.options.settings, this.options.isForbiddenAddress);
    if (refusal) throw new McpServerError(refusal.detail.replace(/^Forbidden: /, ''));
    const { connection, reused } = await this.connection(key, config, signal);
    connection.busy++;
    try {
      return await work(connection.client);
    } catch (error) {
      const failure = asServerError(error);
      // A failed connection is not kept: the next call (or the retry below) connects anew.
      if (this.connections.get(key) && !isToolLevelError(error)) await this.forget(key);
      // A request a kept connection could not deliver (the server restarted, its session is gone) goes once more on a new one.
      if (reused && failure.undelivered && !signal?.aborted) {
        const fresh = await this.connection(key, config, signal);
        try {
          return await work(fresh.connection.client);
        } catch (retryError) {
          if (!isToolLevelError(retryError)) await this.forget(key);
          throw asServerError(retryError);
        }
      }
      throw failure;
    } finally {
      connection.busy--;
      connection.lastUsed = Date.now();
    }
  }

  private async connection(key: string, config: McpServerConfig, signal?: AbortSignal): Promise<{ connection: Connection; reused: boolean }> {
    const fingerprint = fingerprintOf(config);
    const kept = this.connections.get(key);
    if (kept) {
      const connection = await kept.catch(() => null);
      if (connection && !connection.closed && connection.fingerprint === fingerprint) {
        connection.lastUsed = Date.now();
        return { connection, reused: true };
      }
      if (this.connections.get(key) === kept) await this.forget(key);
    }
    const opening = this.open(config, fingerprint, signal);
    this.connections.set(key, opening);
    opening.then(
      (connection) => {
        connection.client.onclose = () => {
          connection.closed = true;
          if (this.connections.get(key) === opening) this.connections.delete(key);
        };
      },
      () => {
        if (this.connections.get(key) === opening) this.connections.delete(key);
      },
    );
    return { connection: await opening, reused: false };
  }

  private async open(config: McpServerConfig, fingerprint: string, signal?: AbortSignal): Promise<Connection> {
    if (config.type === 'stdio') return this.connectWith(new StdioClientTransport({ command: config.command, args: config.args, env: config.env, stderr: 'ignore' }), fingerprint, signal);
    if (config.type === 'sse') return this.connectWith(new SSEClientTransport(new URL(config.url), this.httpOptions(config.headers)), fingerprint, signal);
    try {
      return await this.connectWith(new StreamableHTTPClientTransport(new URL(config.url), this.httpOptions(config.headers)), fingerprint, signal);
    } catch (error) {
      // A server of the older HTTP+SSE protocol answers the streamable POST with a 4xx: Letta's clients fall back to SSE, so does this one.
      if (!(error instanceof McpServerError) || !error.fallback) throw error;
      this.options.logger?.log(`MCP server at ${redactedUrl(config.url)} does not speak streamable HTTP (${error.message}); trying SSE`);
      return this.connectWith(new SSEClientTransport(new URL(config.url), this.httpOptions(config.headers)), fingerprint, signal);
    }
  }

  private httpOptions(headers: Record<string, string>) {
    const allowPrivate = this.options.settings.allowPrivateNetworks;
    return {
      requestInit: { headers },
      fetch: guardedFetch({
        lookup: allowPrivate ? undefined : this.options.lookup,
        isForbiddenAddress: allowPrivate ? undefined : this.options.isForbiddenAddress,
        maxMessageBytes: this.options.maxMessageBytes ?? Math.max(1024 * 1024, 4 * this.options.settings.maxResultChars),
        agents: this.agents,
      }),
    };
  }

  private async connectWith(transport: Transport, fingerprint: string, signal?: AbortSignal): Promise<Connection> {
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    // Errors of the background stream (a server gone between calls) surface on the next call; here they would only be noise.
    client.onerror = () => undefined;
    const timeoutMs = this.options.settings.connectTimeoutMs;
    try {
      await this.bounded(client.connect(transport, { timeout: timeoutMs, signal }), timeoutMs, 'connect', () => void transport.close().catch(() => undefined));
      return { fingerprint, client, closed: false, lastUsed: Date.now(), busy: 0 };
    } catch (error) {
      await client.close().catch(() => undefined);
      const failure = asServerError(error, 'could not connect');
      const status = error instanceof StreamableHTTPError ? error.code : undefined;
      if (status !== undefined && status >= 400 && status < 500 && status !== 401 && status !== 403) failure.fallback = true;
      throw failure;
    }
  }

  private requestOptions(signal?: AbortSignal) {
    const timeout = this.options.settings.callTimeoutMs;
    return { timeout, maxTotalTimeout: timeout, signal };
  }

  /**
   * The SDK's own timeout already bounds each request; this deadline (a second later) is for a
   * promise the SDK never settles (a transport stuck before the request is sent).
   */
  private bounded<T>(work: Promise<T>, timeoutMs: number, what: string, onTimeout?: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new McpServerError(`the MCP server did not ${what} within ${timeoutMs} ms`));
      }, timeoutMs + 1_000);
      timer.unref();
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  }

  private async shut(connection: Connection): Promise<void> {
    connection.closed = true;
    await connection.client.close().catch(() => undefined);
  }
}

/** A tool-level protocol error (unknown tool, invalid arguments) leaves the connection good. */
function isToolLevelError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' && (code === -32602 || code === -32601) && !(error instanceof StreamableHTTPError);
}

function asServerError(error: unknown, prefix?: string): McpServerError {
  if (error instanceof McpServerError) return error;
  const message = describe(error);
  return new McpServerError(prefix ? `${prefix}: ${message}` : message, undelivered(error));
}

/** Whether a failed request certainly never reached the server. */
function undelivered(error: unknown): boolean {
  if (error instanceof StreamableHTTPError) return error.code === 400 || error.code === 404;
  const codes = [error, (error as { cause?: unknown })?.cause].map((item) => (item as { code?: unknown } | undefined)?.code);
  if (codes.includes('ECONNREFUSED')) return true;
  return /not connected/i.test(describe(error));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error && !error.message.includes(cause.message) ? ` (${cause.message})` : '';
    const code = (error as { code?: unknown }).code;
    const message = error.message || (typeof code === 'string' ? code : error.name);
    return `${message}${causeText}`.slice(0, 1_000);
  }
  return String(error).slice(0, 1_000);
}

/** A configuration's identity: a change (new URL, token, command) is a new connection. */
function fingerprintOf(config: McpServerConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** A URL as it may be logged: no query (tokens sometimes ride there), no credentials. */
export function redactedUrl(address: string): string {
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
