import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type TracerProvider } from '@opentelemetry/sdk-trace';
import {
  SpanKind,
  inRequestSpan,
  inSpan,
  parseTraceparent,
  recordSpan,
  requestTraceparent,
  startTracing,
  stopTracing,
  traceHttpRequest,
  tracingConfigured,
  tracingOn,
} from './tracing';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT}-01`;

const request = (headers: Record<string, string> = {}) => ({ method: 'POST', url: '/v1/agents/agent-1/messages/async?x=1', headers }) as unknown as IncomingMessage;
const response = () => Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: true }) as unknown as ServerResponse;

describe('tracing off (no OTLP endpoint)', () => {
  it('loads no SDK: the work runs as is, and a run takes the client traceparent when valid', async () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(startTracing('gateway')).toBe(false);
    expect(tracingOn()).toBe(false);
    await expect(inSpan('work', { kind: SpanKind.INTERNAL }, async (span) => span.isRecording())).resolves.toBe(false);
    const withHeader = request({ traceparent: ` ${TRACEPARENT} ` });
    traceHttpRequest(withHeader, response(), () => null);
    expect(requestTraceparent(withHeader)).toBe(TRACEPARENT);
    expect(requestTraceparent(request({ traceparent: 'not-a-traceparent' }))).toBeNull();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT}-01`)).toBeNull();
  });
});

describe('tracing on', () => {
  const exporter = new InMemorySpanExporter();
  const saved = { ...process.env };

  beforeAll(() => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:1';
    delete process.env.OTEL_SERVICE_NAME;
    expect(startTracing('orchestrator', [new SimpleSpanProcessor({ exporter })])).toBe(true);
  });
  // Spans are exported once the resource's detected attributes are in: flushed, they are all there.
  const finished = async () => {
    await ((trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as TracerProvider).forceFlush();
    return exporter.getFinishedSpans();
  };
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await stopTracing();
    process.env = saved;
  });

  it("parents a span by the traceparent it is given, nests the spans its work starts, and marks a throw failed", async () => {
    await expect(
      inSpan('process StepRequested', { kind: SpanKind.CONSUMER, parent: TRACEPARENT, attributes: { run_id: 'run-1' } }, () =>
        inSpan('chat gpt', { kind: SpanKind.CLIENT }, async () => {
          throw new Error('model down');
        }),
      ),
    ).rejects.toThrow('model down');
    const [client, consumer] = await finished();
    expect(consumer.name).toBe('process StepRequested');
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(TRACE_ID);
    expect(consumer.parentSpanContext?.spanId).toBe(PARENT);
    expect(consumer.attributes).toEqual({ run_id: 'run-1' });
    expect(consumer.resource.attributes['service.name']).toBe('orchestrator');
    expect(client.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(TRACE_ID);
    expect(client.status).toEqual({ code: 2, message: 'model down' });
    expect(client.events.map((event) => event.name)).toEqual(['exception']);
  });

  it("names a request's server span by its route, parents it by the client's traceparent, and hands runs its own context", async () => {
    const incoming = request({ traceparent: TRACEPARENT });
    const outgoing = response();
    traceHttpRequest(incoming, outgoing, () => '/v1/agents/:agent_id/messages/async');
    const carried = parseTraceparent(requestTraceparent(incoming))!;
    expect(carried.traceId).toBe(TRACE_ID);
    expect(carried.spanId).not.toBe(PARENT);
    // Spans started in the rest of the request are its children.
    inRequestSpan(incoming, () => expect(trace.getActiveSpan()?.spanContext().spanId).toBe(carried.spanId));
    Object.assign(outgoing, { statusCode: 503 });
    outgoing.emit('close');
    const [server] = await finished();
    expect(server.name).toBe('POST /v1/agents/:agent_id/messages/async');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().spanId).toBe(carried.spanId);
    expect(server.parentSpanContext?.spanId).toBe(PARENT);
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/agents/:agent_id/messages/async', 'http.response.status_code': 503, 'url.path': '/v1/agents/agent-1/messages/async' });
    expect(server.status.code).toBe(2);
  });

  it('records a span of something already over with its own times', async () => {
    recordSpan('run', { kind: SpanKind.INTERNAL, parent: TRACEPARENT, startTimeMs: 1_700_000_000_000, endTimeMs: 1_700_000_002_500, error: 'boom' });
    const [run] = await finished();
    expect(run.spanContext().traceId).toBe(TRACE_ID);
    expect(run.startTime).toEqual([1_700_000_000, 0]);
    expect(run.duration).toEqual([2, 500_000_000]);
    expect(run.status).toEqual({ code: 2, message: 'boom' });
  });
});
