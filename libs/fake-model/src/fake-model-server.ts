import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { readChatCompletionRequest } from './chat-request';
import { messagesDigest, planCompletion } from './completion-plan';
import { parseDirectives } from './directives';
import { fakeEmbedding, inputsDigest, readEmbeddingsRequest } from './fake-embeddings';
import {
  chatCompletionBody,
  chatCompletionStreamFrames,
  errorBody,
  errorTypeForStatus,
  type CompletionIdentity,
} from './openai-wire';

export interface FakeModelOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Wait before the first byte of every model API response. Default 0. */
  latencyMs?: number;
  /** Wait between streamed chunks. Default 0. */
  tokenDelayMs?: number;
}

export interface RecordedRequest {
  /** Epoch milliseconds with sub-millisecond precision. */
  receivedAtMs: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body. */
  body: unknown;
}

export interface FakeModelServer {
  /** Base URL including `/v1`, usable as the OpenAI SDK `baseURL`. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Keep every request in `requests` (tests); off for long-running use so memory stays flat. */
  recordRequests: boolean;
  /** Clears recorded requests and `fail` attempt counters. */
  reset(): void;
  close(): Promise<void>;
  /** Called for every chat-completions request as soon as it is recorded. */
  onRequest?: (request: RecordedRequest) => void;
  /**
   * Called once the response to a recorded chat-completions request (any status) has been fully
   * handed to the socket, with the same object `onRequest` got and the time on the clock of
   * `receivedAtMs`. Not called when the client went away before the response was complete.
   */
  onResponseComplete?: (request: RecordedRequest, completedAtMs: number) => void;
  /**
   * Lets `frames` more frames (default: all) of the streams held by `[fake:hold=NAME]` go out, so a
   * test can watch a run mid-answer without racing the model.
   */
  release(hold: string, frames?: number): void;
}

const CHAT_COMPLETIONS_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
const MODELS_PATHS = new Set(['/v1/models', '/models']);
const EMBEDDINGS_PATHS = new Set(['/v1/embeddings', '/embeddings']);
const HEALTH_PATH = '/health';
const RECORDED_REQUESTS_PATH = '/__fake/requests';
const MODEL_LIST = {
  object: 'list',
  data: [
    { id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'fake' },
    { id: 'text-embedding-3-small', object: 'model', created: 0, owned_by: 'fake' },
  ],
};
// Longer than the idle timeout of common HTTP client pools (undici defaults to 4 s, proxies to
// 60 s) so the server never closes a socket the client is about to reuse.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function startFakeModelServer(options: FakeModelOptions = {}): Promise<FakeModelServer> {
  const fakeModel = new FakeModel(options);
  await fakeModel.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return fakeModel;
}

class FakeModel implements FakeModelServer {
  url = '';
  port = 0;
  readonly requests: RecordedRequest[] = [];
  recordRequests = true;
  onRequest?: (request: RecordedRequest) => void;
  onResponseComplete?: (request: RecordedRequest, completedAtMs: number) => void;

  private readonly latencyMs: number;
  private readonly tokenDelayMs: number;
  private readonly attemptsByMessagesDigest = new Map<string, number>();
  private completionCount = 0;
  private readonly server: Server;
  private readonly holds = new Map<string, FrameGate>();

  constructor(options: FakeModelOptions) {
    this.latencyMs = options.latencyMs ?? 0;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
    this.server = createServer((req, res) => this.route(req, res));
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Node needs headersTimeout above keepAliveTimeout or it may cut a reused socket short.
    this.server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}/v1`;
        resolve();
      });
    });
  }

  reset(): void {
    this.requests.length = 0;
    this.attemptsByMessagesDigest.clear();
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      // In-flight delayed or streaming responses would otherwise hold close() open.
      this.server.closeAllConnections();
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);

    if (req.method === 'POST' && CHAT_COMPLETIONS_PATHS.has(path)) {
      this.handleChatCompletion(req, res, path).catch((error: unknown) => failUnexpectedly(res, error));
      return;
    }
    if (req.method === 'POST' && EMBEDDINGS_PATHS.has(path)) {
      this.handleEmbeddings(req, res, path).catch((error: unknown) => failUnexpectedly(res, error));
      return;
    }
    req.resume();
    // Health and inspection endpoints answer at once so orchestration and assertions are not
    // slowed down by the simulated model latency.
    if (req.method === 'GET' && path === HEALTH_PATH) return sendJson(res, 200, { status: 'ok' });
    if (path === RECORDED_REQUESTS_PATH && req.method === 'GET') return sendJson(res, 200, this.requests);
    if (path === RECORDED_REQUESTS_PATH && req.method === 'DELETE') {
      this.reset();
      return sendJson(res, 200, { cleared: true });
    }

    const [status, body] =
      req.method === 'GET' && MODELS_PATHS.has(path)
        ? [200, MODEL_LIST]
        : [404, errorBody(`Invalid URL (${req.method} ${path})`, 'invalid_request_error')];
    waitWhileConnected(res, this.latencyMs).then((connected) => {
      if (connected) sendJson(res, status, body);
    });
  }

  private async handleChatCompletion(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const receivedAtMs = performance.timeOrigin + performance.now();
    const rawBody = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      if (await waitWhileConnected(res, this.latencyMs)) {
        sendJson(res, 400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'));
      }
      return;
    }
    const recorded: RecordedRequest = { receivedAtMs, path, headers: req.headers, body };
    this.record(recorded);
    // 'finish' means the last byte went to the socket; an aborted response only emits 'close'.
    res.once('finish', () => this.onResponseComplete?.(recorded, performance.timeOrigin + performance.now()));

    const read = readChatCompletionRequest(body);
    if (!read.ok) {
      if (await waitWhileConnected(res, this.latencyMs)) {
        sendJson(res, 400, errorBody(read.message, 'invalid_request_error', read.param));
      }
      return;
    }
    const { request } = read;
    if (request.contextWindow !== undefined && request.promptTokens > request.contextWindow) {
      if (!(await waitWhileConnected(res, this.latencyMs))) return;
      const message = `This model's maximum context length is ${request.contextWindow} tokens. However, your messages resulted in ${request.promptTokens} tokens. Please reduce the length of the messages.`;
      return sendJson(res, 400, errorBody(message, 'invalid_request_error', 'messages', 'context_length_exceeded'));
    }
    const plan = planCompletion(request);
    const { directives } = plan;
    // Counted on arrival, so an attempt the client gave up on still counts as one.
    const attempt = directives.failAttempts || directives.rateLimitAttempts ? this.nextAttempt(messagesDigest(request.rawMessages)) : 0;

    if (!(await waitWhileConnected(res, this.latencyMs + (directives.delayMs ?? 0)))) return;

    if (directives.status !== undefined) {
      const { status } = directives;
      return sendJson(res, status, errorBody(`fake status ${status}`, errorTypeForStatus(status)));
    }
    if (directives.rateLimitAttempts && attempt <= directives.rateLimitAttempts) {
      const retryAfter = String(directives.retryAfterSeconds ?? 1);
      return sendJson(res, 429, errorBody(`fake rate limit (attempt ${attempt} of ${directives.rateLimitAttempts})`, 'rate_limit_exceeded'), { 'retry-after': retryAfter });
    }
    if (directives.failAttempts && attempt <= directives.failAttempts) {
      const message = `fake failure (attempt ${attempt} of ${directives.failAttempts})`;
      return sendJson(res, 500, errorBody(message, 'server_error'));
    }

    const identity: CompletionIdentity = {
      id: `chatcmpl-${++this.completionCount}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
    };
    if (!request.stream) return sendJson(res, 200, chatCompletionBody(identity, plan));

    const frames = chatCompletionStreamFrames(identity, plan, request.includeUsage);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
    if (this.tokenDelayMs <= 0 && directives.hold === undefined) {
      res.end(frames.join(''));
      return;
    }
    res.write(frames[0]);
    const gate = directives.hold === undefined ? null : this.gate(directives.hold);
    for (let index = 1; index < frames.length; index++) {
      if (gate && !(await gate.pass(res))) return;
      if (!(await waitWhileConnected(res, this.tokenDelayMs))) return;
      res.write(frames[index]);
    }
    res.end();
  }

  release(hold: string, frames = Number.POSITIVE_INFINITY): void {
    this.gate(hold).open(frames);
  }

  private gate(hold: string): FrameGate {
    let gate = this.holds.get(hold);
    if (!gate) this.holds.set(hold, (gate = new FrameGate()));
    return gate;
  }

  /**
   * Deterministic embeddings (fakeEmbedding). `[fake:fail=N]` in an input fails the first N
   * attempts at the same inputs with a 500, for tests of retries.
   */
  private async handleEmbeddings(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const receivedAtMs = performance.timeOrigin + performance.now();
    const rawBody = await readBody(req);
    let body: unknown = null;
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = null;
    }
    this.record({ receivedAtMs, path, headers: req.headers, body });
    if (!(await waitWhileConnected(res, this.latencyMs))) return;
    const read = readEmbeddingsRequest(body);
    if (!read.ok) return sendJson(res, 400, errorBody(read.message, 'invalid_request_error', read.param));
    const failAttempts = Math.max(0, ...read.inputs.map((input) => parseDirectives(input).directives.failAttempts ?? 0));
    if (failAttempts > 0 && this.nextAttempt(inputsDigest(read.inputs)) <= failAttempts) {
      return sendJson(res, 500, errorBody('fake embedding failure', 'server_error'));
    }
    const tokens = read.inputs.reduce((sum, input) => sum + Math.ceil(input.length / 4), 0);
    sendJson(res, 200, {
      object: 'list',
      model: read.model,
      data: read.inputs.map((input, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(input, read.dimensions) })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  private record(recorded: RecordedRequest): void {
    if (this.recordRequests) this.requests.push(recorded);
    this.onRequest?.(recorded);
  }

  private nextAttempt(digest: string): number {
    const attempt = (this.attemptsByMessagesDigest.get(digest) ?? 0) + 1;
    this.attemptsByMessagesDigest.set(digest, attempt);
    return attempt;
  }
}

/** Frames allowed through a `[fake:hold]`: each passing frame takes one, a waiting one waits for `open`. */
class FrameGate {
  private allowed = 0;
  private readonly waiting: (() => void)[] = [];

  open(frames: number): void {
    this.allowed += frames;
    while (this.allowed > 0 && this.waiting.length > 0) {
      this.allowed--;
      this.waiting.shift()!();
    }
  }

  /** Resolves true when the frame may go, false if the client went away first. */
  pass(res: ServerResponse): Promise<boolean> {
    if (this.allowed > 0) {
      this.allowed--;
      return Promise.resolve(!res.destroyed);
    }
    return new Promise((resolve) => {
      const go = (): void => {
        res.off('close', gone);
        resolve(!res.destroyed);
      };
      const gone = (): void => {
        const index = this.waiting.indexOf(go);
        if (index !== -1) this.waiting.splice(index, 1);
        resolve(false);
      };
      this.waiting.push(go);
      res.once('close', gone);
    });
  }
}

/** Resolves false as soon as the client goes away, so an aborted request stops all work. */
function waitWhileConnected(res: ServerResponse, ms: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client closed the connection before sending the whole body'));
    });
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

function failUnexpectedly(res: ServerResponse, error: unknown): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  sendJson(res, 500, errorBody(`fake model internal error: ${message}`, 'server_error'));
}
