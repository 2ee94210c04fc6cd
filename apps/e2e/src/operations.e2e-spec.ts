import SwaggerParser from '@apidevtools/swagger-parser';
import { runSubject } from '@lrs/contracts';
import { connectJetStream } from '@lrs/jetstream';
import { TestStack } from '@lrs/testing';
import { createAgent, pollRun, sendAsync } from './helpers';

/**
 * What operators read: GET /openapi.json is a valid OpenAPI document (every $ref resolves, and a
 * real validator passes it), and GET /metrics is Prometheus text counting the requests and runs.
 */
describe('operations endpoints', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('validates, with every $ref resolving', async () => {
    const document = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as Record<string, unknown>;
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    expect([...new Set(refs.filter((name) => !(name in schemas)))]).toEqual([]);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    // Routes declare the errors they answer, as JSON, stream routes included.
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
    const asyncRoute = paths['/v1/agents/{agent_id}/messages/async'].post.responses;
    for (const code of ['401', '404', '409', '413', '422', '429', '503']) expect(Object.keys(asyncRoute[code]?.content ?? {})).toEqual(['application/json']);
    const streamRoute = paths['/v1/agents/{agent_id}/messages/stream'].post.responses;
    expect(Object.keys(streamRoute['422'].content ?? {})).toEqual(['application/json']);
    expect(paths['/v1/agents/{agent_id}/messages'].post.responses['504']).toBeDefined();
    expect(paths['/v1/admin/api-keys'].get.responses['403']).toBeDefined();
  });

  it('serves Prometheus metrics: requests by route pattern and status, runs created, process figures', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'count me' });
    await pollRun(stack.baseUrl, runId);
    const response = await fetch(`${stack.baseUrl}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    // A sample's value, by metric name and labels, whatever order the labels come in.
    const sample = (name: string, labels: Record<string, string>) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
    };
    expect(sample('lrs_http_requests_total', { method: 'POST', route: '/v1/agents/:agent_id/messages/async', status: '200', service: 'gateway' })).toBeGreaterThanOrEqual(1);
    expect(sample('lrs_runs_created_total', { service: 'gateway' })).toBeGreaterThanOrEqual(1);
    expect(sample('lrs_http_request_duration_seconds_count', { method: 'GET', route: '/v1/runs/:run_id', service: 'gateway' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="gateway"\} [\d.]+$/m);
    // Ids never become labels.
    expect(text).not.toContain(runId);
  });

  // Tracing off (no OTLP endpoint): the run carries the client's own traceparent. With the
  // OpenTelemetry SDK on, it carries the gateway's request span instead (tracing.e2e-spec.ts).
  it("carries a request's W3C traceparent through every event of its run, and the trace endpoint joins that trace", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const agentId = await createAgent(stack.baseUrl);
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
      body: JSON.stringify({ input: 'trace me' }),
    });
    const runId = ((await response.json()) as { id: string }).id;
    await pollRun(stack.baseUrl, runId);
    const spans = (await (await fetch(`${stack.baseUrl}/v1/runs/${runId}/trace`)).json()) as { TraceId: string; SpanName: string; ParentSpanId: string }[];
    expect(spans.length).toBeGreaterThan(2);
    expect(new Set(spans.map((span) => span.TraceId))).toEqual(new Set([traceId]));
    expect(spans.find((span) => span.SpanName === 'run')?.ParentSpanId).toBe(parent);
    // In the NATS headers of the run's events, up to its last.
    const nats = await connectJetStream({ servers: stack.nats.url, name: 'e2e-trace' });
    try {
      const last = await nats.jsm.direct.getMessage('RUN_EVENTS', { last_by_subj: runSubject(runId) });
      expect(last?.header.get('traceparent')).toBe(`00-${traceId}-${parent}-01`);
    } finally {
      await nats.nc.drain();
    }
    // A malformed one is ignored: the run gets a trace of its own.
    const plain = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: 'not-a-traceparent' },
      body: JSON.stringify({ input: 'no trace' }),
    });
    expect(plain.status).toBe(200);
  });
});
