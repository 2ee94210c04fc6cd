import SwaggerParser from '@apidevtools/swagger-parser';
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
});
