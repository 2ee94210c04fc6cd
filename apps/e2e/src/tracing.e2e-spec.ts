import { CONSUMERS, runSubject } from '@lrs/contracts';
import { connectJetStream } from '@lrs/jetstream';
import { CallbackReceiver, OtlpReceiver, TestStack, type ReceivedSpan } from '@lrs/testing';
import { createAgent, getJson, pollRun, sendAsync, waitUntil } from './helpers';

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;
const ERROR = 2;

/**
 * OpenTelemetry tracing with OTEL_EXPORTER_OTLP_ENDPOINT set: every service runs the SDK and
 * exports its spans over OTLP/HTTP (JSON here) to a receiver this test starts on loopback; the
 * spans of a run are all in the run's trace, the one GET /v1/runs/{id}/trace shows.
 */
describe('OpenTelemetry tracing', () => {
  let stack: TestStack;
  let collector: OtlpReceiver;
  let callbacks: CallbackReceiver;
  let agentId: string;

  beforeAll(async () => {
    [collector, callbacks] = await Promise.all([OtlpReceiver.start(), CallbackReceiver.start()]);
    stack = await TestStack.start({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
      },
    });
    agentId = await createAgent(stack.baseUrl);
  });
  afterAll(async () => {
    // The collector last: the services export what they still hold as they stop.
    await stack?.stop();
    await Promise.all([collector?.stop(), callbacks?.stop()]);
  });

  /** The spans of a trace once `expected` holds for them (they arrive in batches, service by service). */
  async function spansOf(traceId: string, expected: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    await waitUntil(() => expected(collector.inTrace(traceId)), 20_000).catch(() => {
      throw new Error(`spans of ${traceId} not all in: ${JSON.stringify(collector.inTrace(traceId).map((span) => `${span.service} ${span.name}`))}`);
    });
    return collector.inTrace(traceId);
  }
  const one = (spans: ReceivedSpan[], service: string, name: string) => {
    const found = spans.filter((span) => span.service === service && span.name === name);
    expect(found.map((span) => `${span.service} ${span.name}`)).toEqual([`${service} ${name}`]);
    return found[0];
  };

  it("puts every service's spans of a run in the client's trace, each parented where it belongs", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    callbacks.respondWith(500);
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpan}-01` },
      body: JSON.stringify({ input: 'trace me', callback_url: callbacks.url('/traced') }),
    });
    expect(response.status).toBe(200);
    const runId = ((await response.json()) as { id: string }).id;
    await pollRun(stack.baseUrl, runId, (run) => run.status === 'completed' && run.callback_status_code === 200);

    const spans = await spansOf(traceId, (all) => ['gateway', 'orchestrator', 'llm-worker', 'callback-dispatcher', 'projector'].every((service) => all.some((span) => span.service === service)) && all.filter((span) => span.name === 'POST').length === 2 && all.some((span) => span.name === 'run'));
    // The gateway's request span is the child of the client's; the run carries it on.
    const request = one(spans, 'gateway', 'POST /v1/agents/:agent_id/messages/async');
    expect(request).toMatchObject({ kind: SERVER, parentSpanId: clientSpan, attributes: { 'http.route': '/v1/agents/:agent_id/messages/async', 'http.request.method': 'POST', 'http.response.status_code': 200 } });
    expect(request.resource).toMatchObject({ 'service.name': 'gateway', 'deployment.environment.name': 'e2e' });
    const nats = await connectJetStream({ servers: stack.nats.url, name: 'e2e-tracing' });
    try {
      const last = await nats.jsm.direct.getMessage('RUN_EVENTS', { last_by_subj: runSubject(runId) });
      expect(last?.header.get('traceparent')).toBe(`00-${traceId}-${request.spanId}-01`);
    } finally {
      await nats.nc.drain();
    }

    // Each service's handling of the run's events: consumer spans, children of the request's span.
    const consumers = spans.filter((span) => span.kind === CONSUMER);
    for (const span of consumers) {
      expect(span).toMatchObject({ parentSpanId: request.spanId, attributes: { run_id: runId, 'messaging.system': 'nats' } });
      expect(span.name).toBe(`process ${span.attributes.event_type}`);
    }
    const created = one(spans, 'orchestrator', 'process RunCreated');
    expect(created.attributes).toMatchObject({ 'messaging.consumer.group.name': CONSUMERS.orchestrator, delivery_count: 1, outcome: 'acked', agent_id: agentId });
    expect(consumers.filter((span) => span.service === 'projector').map((span) => span.name)).toEqual(expect.arrayContaining(['process RunCreated', 'process RunFinished']));

    // The model call: a client span of the worker's step.
    const step = one(spans, 'llm-worker', 'process StepRequested');
    const [chat] = spans.filter((span) => span.service === 'llm-worker' && span.kind === CLIENT);
    expect(chat).toMatchObject({ parentSpanId: step.spanId, status: { code: 0 }, attributes: { 'gen_ai.operation.name': 'chat', 'server.address': '127.0.0.1' } });
    expect(chat.name).toBe(`chat ${chat.attributes['gen_ai.request.model']}`);
    expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(chat.events).toContain('first_token');

    // The callback: its first attempt answered 500 (an error span, the delivery waits), the second 200.
    const finished = spans.filter((span) => span.service === 'callback-dispatcher' && span.name === 'process RunFinished').sort((a, b) => Number(a.attributes.delivery_count) - Number(b.attributes.delivery_count));
    expect(finished.map((span) => [span.attributes.delivery_count, span.attributes.outcome])).toEqual([
      [1, 'waiting'],
      [2, 'acked'],
    ]);
    const posts = finished.map((delivery) => spans.find((span) => span.name === 'POST' && span.parentSpanId === delivery.spanId));
    expect(posts.map((post) => [post?.kind, post?.attributes['http.response.status_code'], post?.status.code])).toEqual([
      [CLIENT, 500, ERROR],
      [CLIENT, 200, 0],
    ]);

    // The run as a whole, once, from the dispatcher; GET /v1/runs/{id}/trace shows the same trace and parent.
    const run = one(spans, 'callback-dispatcher', 'run');
    expect(run).toMatchObject({ parentSpanId: request.spanId, attributes: { run_id: runId, status: 'completed', stop_reason: 'end_turn' } });
    const shown = await getJson<{ TraceId: string; SpanName: string; ParentSpanId: string }[]>(stack.baseUrl, `/v1/runs/${runId}/trace`);
    expect(new Set(shown.map((span) => span.TraceId))).toEqual(new Set([traceId]));
    expect(shown.find((span) => span.SpanName === 'run')?.ParentSpanId).toBe(request.spanId);
  });

  it("gives a run sent without a traceparent the trace of its request's span, and marks failed model calls", async () => {
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'broken [fake:status=500]' });
    await pollRun(stack.baseUrl, runId);
    const shown = await getJson<{ TraceId: string }[]>(stack.baseUrl, `/v1/runs/${runId}/trace`);
    const traceId = shown[0].TraceId;
    const spans = await spansOf(traceId, (all) => all.some((span) => span.service === 'gateway') && all.some((span) => span.name === 'run') && all.some((span) => span.service === 'llm-worker' && span.kind === CLIENT));
    const request = one(spans, 'gateway', 'POST /v1/agents/:agent_id/messages/async');
    expect(request.parentSpanId).toBe('');
    for (const span of spans.filter((span) => span.kind === CONSUMER)) expect(span.parentSpanId).toBe(request.spanId);
    const chats = spans.filter((span) => span.service === 'llm-worker' && span.kind === CLIENT);
    expect(chats.length).toBeGreaterThan(0);
    for (const chat of chats) expect(chat).toMatchObject({ status: { code: ERROR }, attributes: { 'error.type': 'llm_error' } });
    expect(one(spans, 'callback-dispatcher', 'run')).toMatchObject({ status: { code: ERROR }, attributes: { status: 'failed' } });
  });
});
