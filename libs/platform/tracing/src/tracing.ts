import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { SpanProcessors, TracingSdk } from './sdk';

export { SpanKind, SpanStatusCode, type Attributes, type Span };

/**
 * The OpenTelemetry spans of a process, in one place: a service starts the SDK when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and the helpers
 * below make its spans. Without it the SDK is never loaded and every helper runs the work as is.
 */
const TRACER = 'letta-jetstream-server';
let sdk: TracingSdk | null = null;

/** Tracing is asked for: an OTLP endpoint is set and OTEL_SDK_DISABLED is not `true`. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';
}

/** The SDK runs in this process. */
export function tracingOn(): boolean {
  return sdk !== null;
}

/**
 * Starts the SDK once per process when tracing is configured (`service.name`: OTEL_SERVICE_NAME,
 * else `serviceName`); true when it runs. `spanProcessors` replace the exporter the environment names.
 */
export function startTracing(serviceName: string, spanProcessors?: SpanProcessors): boolean {
  if (sdk || !tracingConfigured()) return sdk !== null;
  // Required here, not imported at the top: a process without tracing never loads the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof import('./sdk');
  sdk = startSdk(serviceName, spanProcessors);
  return true;
}

/** Exports the spans not sent yet and stops the SDK (at shutdown, once the last span has ended). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = null;
  await running?.shutdown();
}

/** W3C Trace Context, version 00, with a non-zero trace id and parent id. */
const TRACEPARENT = /^00-((?!0{32})[0-9a-f]{32})-((?!0{16})[0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C `traceparent` (a header's first value) as a remote span context; null when it is not a valid one. */
export function parseTraceparent(value: string | string[] | null | undefined): SpanContext | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  const match = text ? TRACEPARENT.exec(text) : null;
  return match ? { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true } : null;
}

export function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

export interface SpanOptions {
  kind: SpanKind;
  attributes?: Attributes;
  /** A remote parent, as a W3C traceparent; without a valid one, the span whose work this is (if any). */
  parent?: string | null;
}

/** A span that records nothing, handed to the work while tracing is off. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

function tracer() {
  return trace.getTracer(TRACER);
}

function parentContext(traceparent: string | string[] | null | undefined): Context {
  const remote = parseTraceparent(traceparent);
  return remote ? trace.setSpanContext(context.active(), remote) : context.active();
}

/**
 * Runs `work` in a span: spans it starts are its children, a throw marks it failed, and it ends
 * when the work does. Work that settles failures itself (and does not throw) marks them with `markFailed`.
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  if (!sdk) return work(NO_SPAN);
  const parent = parentContext(options.parent);
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Error status, with the error as an exception event. */
export function markFailed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** A span of something that already happened, from its own start and end times (epoch ms), e.g. a whole run once it ended. */
export function recordSpan(name: string, options: SpanOptions & { startTimeMs: number; endTimeMs: number; error?: string | null }): void {
  if (!sdk) return;
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes, startTime: options.startTimeMs }, parentContext(options.parent));
  if (options.error != null) span.setStatus({ code: SpanStatusCode.ERROR, message: options.error });
  span.end(Math.max(options.startTimeMs, options.endTimeMs));
}

const REQUEST_SPANS = new WeakMap<IncomingMessage, Span>();

/**
 * A server span for an HTTP request, child of the request's `traceparent` when it sent a valid
 * one, ended when the response closes. `route` names the route template that matched (known only
 * once the request was routed), so spans are named `GET /v1/runs/:run_id`, never by ids.
 */
export function traceHttpRequest(request: IncomingMessage, response: ServerResponse, route: () => string | null): void {
  if (!sdk) return;
  const method = request.method ?? 'GET';
  const span = tracer().startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': (request.url ?? '/').split('?')[0], 'url.scheme': 'http' } },
    parentContext(request.headers.traceparent),
  );
  REQUEST_SPANS.set(request, span);
  response.once('close', () => {
    const template = route();
    if (template) {
      span.updateName(`${method} ${template}`);
      span.setAttribute('http.route', template);
    }
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    // The client went away before the whole answer was sent (a stream it stopped reading, say).
    if (!response.writableFinished) span.setAttribute('error.type', 'aborted');
    span.end();
  });
}

/**
 * The trace context a run created by this request carries: the request's server span while
 * tracing is on (so the run's spans are its children), else the client's own `traceparent` when valid.
 */
export function requestTraceparent(request: IncomingMessage): string | null {
  const server = REQUEST_SPANS.get(request)?.spanContext();
  if (server && isSpanContextValid(server)) return formatTraceparent(server);
  const client = parseTraceparent(request.headers.traceparent);
  return client ? formatTraceparent(client) : null;
}

/** Runs the rest of a request in its server span, so that spans it starts are the span's children. */
export function inRequestSpan<T>(request: IncomingMessage, next: () => T): T {
  const span = REQUEST_SPANS.get(request);
  return span ? context.with(trace.setSpan(context.active(), span), next) : next();
}
