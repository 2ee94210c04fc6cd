import Letta, { NotFoundError } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';

const BOOTSTRAP_KEY = 'lrs-e2e-bootstrap-admin-key-steps-and-tags-0123';

interface Answer {
  status: number;
  body: unknown;
}

/**
 * `/v1/steps` and `/v1/tags` through the official client (README, "API implemented"): a run's
 * steps by agent and run, each step's messages, metrics, (absent) provider trace and feedback,
 * the organization's agent tags; another organization's key sees none of it (404), and hostile
 * input is a 4xx with a detail that writes nothing.
 */
describe('steps and tags', () => {
  let stack: TestStack;
  let keyA: string;
  let keyB: string;

  const call = async (key: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const client = (key: string) => new Letta({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0, timeout: 20_000 });

  beforeAll(async () => {
    stack = await TestStack.start({ env: { BOOTSTRAP_API_KEY: BOOTSTRAP_KEY } });
    const a = await call(BOOTSTRAP_KEY, 'POST', '/v1/admin/api-keys', { organization: 'steps-a' });
    const b = await call(BOOTSTRAP_KEY, 'POST', '/v1/admin/api-keys', { organization: 'steps-b' });
    [keyA, keyB] = [(a.body as { key: string }).key, (b.body as { key: string }).key];
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("lists and reads a run's steps, their messages, metrics and trace; records feedback and filters by it; lists tags", async () => {
    const acme = client(keyA);
    const agent = await acme.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Ada' }], tags: ['support', 'tier-1'] });
    const other = await acme.agents.create({ model: 'openai/gpt-4o-mini', tags: ['support', 'vip'] });
    await client(keyB).agents.create({ model: 'openai/gpt-4o-mini', tags: ['secret-b'] });

    await acme.agents.messages.create(agent.id, {
      input: 'note it [fake:toolsteps=1][fake:tool=memory_insert][fake:args={"label":"human","new_str":"likes tea"}]',
    });
    await acme.agents.messages.create(other.id, { input: 'hello' });
    const [run] = (await acme.runs.list({ agent_id: agent.id })).getPaginatedItems();
    // The step routes read the read model, which may trail the run's log by a moment; a run's steps
    // route waits for its projection, so after these two every step is there.
    const viaRun = (await acme.runs.steps.list(run.id!, { order: 'asc' })).getPaginatedItems();
    const [otherRun] = (await acme.runs.list({ agent_id: other.id })).getPaginatedItems();
    expect((await acme.runs.steps.list(otherRun.id!)).getPaginatedItems().length).toBe(1);

    // By agent (newest first by default, as Letta's) and by run: the tool step, then the answer.
    const byAgent = (await acme.steps.list({ agent_id: agent.id, order: 'asc' })).getPaginatedItems();
    expect(byAgent.map((step) => [step.run_id, step.agent_id, step.status, step.model_handle])).toEqual([
      [run.id, agent.id, 'success', 'openai/gpt-4o-mini'],
      [run.id, agent.id, 'success', 'openai/gpt-4o-mini'],
    ]);
    expect((await acme.steps.list({ agent_id: agent.id })).getPaginatedItems().map((step) => step.id)).toEqual(byAgent.map((step) => step.id).reverse());
    expect(viaRun).toEqual(byAgent);
    expect(((await call(keyA, 'GET', `/v1/steps/?run_id=${run.id}&order=asc`)).body as { id: string }[]).map((step) => step.id)).toEqual(byAgent.map((step) => step.id));
    expect((await acme.steps.list({ order: 'asc' })).getPaginatedItems().length).toBe(3);
    expect((await acme.steps.list({ model: 'gpt-4o-mini', agent_id: other.id })).getPaginatedItems().length).toBe(1);
    expect((await acme.steps.list({ model: 'some-other-model' })).getPaginatedItems()).toEqual([]);
    expect((await acme.steps.list({ start_date: '2100-01-01T00:00:00Z' })).getPaginatedItems()).toEqual([]);
    expect((await acme.steps.list({ end_date: '2100-01-01T00:00:00+01:00', agent_id: agent.id })).getPaginatedItems().length).toBe(2);
    // Auto-pagination, one step a page, visits each once.
    const paged: string[] = [];
    for await (const step of acme.steps.list({ limit: 1 })) paged.push(step.id);
    expect(paged.length).toBe(3);
    expect(new Set(paged).size).toBe(3);

    const [toolStep, answerStep] = byAgent;
    expect(await acme.steps.retrieve(toolStep.id)).toEqual(toolStep);
    expect(toolStep).toMatchObject({ feedback: null, tags: [], stop_reason: null, provider_id: null, total_tokens: expect.any(Number) });

    const toolMessages = (await acme.steps.messages.list(toolStep.id)).getPaginatedItems();
    expect(toolMessages.map((message) => message.message_type)).toEqual(expect.arrayContaining(['tool_call_message', 'tool_return_message']));
    expect(toolMessages.every((message) => (message as { step_id?: string }).step_id === toolStep.id)).toBe(true);
    const pagedMessages: string[] = [];
    for await (const message of acme.steps.messages.list(toolStep.id, { limit: 1 })) pagedMessages.push(message.id);
    expect(pagedMessages).toEqual(toolMessages.map((message) => message.id));
    expect((await acme.steps.messages.list(answerStep.id)).getPaginatedItems().map((message) => message.message_type)).toContain('assistant_message');

    const metrics = await acme.steps.metrics.retrieve(toolStep.id);
    expect(metrics).toMatchObject({ id: toolStep.id, run_id: run.id, agent_id: agent.id, llm_request_ns: null, tool_execution_ns: null });
    expect(metrics.step_ns).toBeGreaterThan(0);
    expect(metrics.llm_request_start_ns!).toBeGreaterThanOrEqual(metrics.step_start_ns!);
    expect(metrics.step_start_ns).toBeCloseTo(Date.parse(run.created_at!) * 1e6, -11);
    expect(await acme.steps.trace.retrieve(toolStep.id)).toBeNull();

    // Feedback: set, filtered by, cleared; tags kept when left out.
    const rated = await acme.steps.feedback.create(toolStep.id, { feedback: 'positive', tags: ['reviewed', 'tool'] });
    expect(rated).toMatchObject({ id: toolStep.id, feedback: 'positive', tags: ['reviewed', 'tool'] });
    expect(await acme.steps.retrieve(toolStep.id)).toMatchObject({ feedback: 'positive', tags: ['reviewed', 'tool'] });
    await acme.steps.feedback.create(answerStep.id, { feedback: 'negative' });
    const ids = async (params: Parameters<typeof acme.steps.list>[0]) => (await acme.steps.list({ order: 'asc', ...params })).getPaginatedItems().map((step) => step.id);
    expect(await ids({ feedback: 'positive' })).toEqual([toolStep.id]);
    expect(await ids({ has_feedback: true })).toEqual([toolStep.id, answerStep.id]);
    expect((await ids({ has_feedback: false })).length).toBe(1);
    expect(await ids({ tags: ['reviewed'] })).toEqual([toolStep.id]);
    expect(await ids({ tags: ['reviewed', 'nope'] })).toEqual([]);
    expect(await acme.steps.feedback.create(answerStep.id, { feedback: null })).toMatchObject({ feedback: null, tags: [] });
    expect(await ids({ feedback: 'negative' })).toEqual([]);
    // The run's steps show the same feedback.
    expect((await acme.runs.steps.list(run.id!, { order: 'asc' })).getPaginatedItems()[0]).toMatchObject({ feedback: 'positive', tags: ['reviewed', 'tool'] });

    // Tags: the organization's agents' tags, distinct, by name; filtered and paged.
    expect(await acme.tags.list()).toEqual(['support', 'tier-1', 'vip']);
    expect(await acme.tags.list({ name: 'TIER' })).toEqual(['tier-1']);
    expect(await acme.tags.list({ query_text: 'v' })).toEqual(['vip']);
    expect(await acme.tags.list({ order: 'desc', limit: 2 })).toEqual(['vip', 'tier-1']);
    expect(await acme.tags.list({ after: 'support' })).toEqual(['tier-1', 'vip']);
    expect(await acme.tags.list({ before: 'vip', order: 'asc' })).toEqual(['support', 'tier-1']);
    expect(await client(keyB).tags.list()).toEqual(['secret-b']);

    // Another organization: every route is a 404 with a detail, lists leave the steps out, nothing changes.
    const globex = client(keyB);
    await expect(globex.steps.retrieve(toolStep.id)).rejects.toBeInstanceOf(NotFoundError);
    for (const [method, path, body] of [
      ['GET', `/v1/steps/${toolStep.id}`],
      ['GET', `/v1/steps/${toolStep.id}/messages`],
      ['GET', `/v1/steps/${toolStep.id}/metrics`],
      ['GET', `/v1/steps/${toolStep.id}/trace`],
      ['PATCH', `/v1/steps/${toolStep.id}/feedback`, { feedback: 'negative', tags: ['stolen'] }],
    ] as [string, string, unknown?][]) {
      const answer = await call(keyB, method, path, body);
      expect({ path, status: answer.status, detail: (answer.body as { detail?: unknown }).detail }).toEqual({ path, status: 404, detail: `Step with ID ${toolStep.id} not found` });
    }
    expect((await globex.steps.list()).getPaginatedItems()).toEqual([]);
    expect((await globex.steps.list({ agent_id: agent.id })).getPaginatedItems()).toEqual([]);
    expect((await call(keyB, 'GET', `/v1/steps?after=${toolStep.id}`)).status).toBe(400);
    expect(await acme.steps.retrieve(toolStep.id)).toMatchObject({ feedback: 'positive', tags: ['reviewed', 'tool'] });
  });

  it('answers hostile input with a 4xx and a detail, and writes nothing', async () => {
    const acme = client(keyA);
    const agent = await acme.agents.create({ model: 'openai/gpt-4o-mini' });
    await acme.agents.messages.create(agent.id, { input: 'hi' });
    const [run] = (await acme.runs.list({ agent_id: agent.id })).getPaginatedItems();
    const [step] = (await acme.runs.steps.list(run.id!)).getPaginatedItems();
    await acme.steps.feedback.create(step.id, { feedback: 'positive', tags: ['kept'] });
    const feedback = `/v1/steps/${step.id}/feedback`;
    const cases: [string, string, unknown?][] = [
      ['GET', '/v1/steps/step-123'],
      ['GET', '/v1/steps/%00'],
      ['GET', '/v1/steps/%ED%A0%80/messages'],
      ['GET', `/v1/steps/${agent.id}/metrics`],
      ['GET', '/v1/steps/run-00000000-0000-4000-8000-000000000000/trace'],
      ['GET', '/v1/steps?agent_id=%00'],
      ['GET', '/v1/steps?agent_id=agent-123'],
      ['GET', '/v1/steps?run_id=run-nope'],
      ['GET', '/v1/steps?limit=1e308'],
      ['GET', '/v1/steps?limit=0'],
      ['GET', '/v1/steps?limit=3e9'],
      ['GET', '/v1/steps?order=sideways'],
      ['GET', '/v1/steps?has_feedback=maybe'],
      ['GET', '/v1/steps?feedback=meh'],
      ['GET', '/v1/steps?start_date=-9999-01-01T00:00:00Z'],
      ['GET', '/v1/steps?end_date=yesterday'],
      ['GET', '/v1/steps?model=x%00y'],
      ['GET', `/v1/steps?tags=${'t'.repeat(300)}`],
      ['GET', `/v1/steps?${Array.from({ length: 101 }, (_, i) => `tags=t${i}`).join('&')}`],
      ['GET', '/v1/steps?after=step-00000000-0000-4000-8000-000000000000'],
      ['GET', `/v1/steps/${step.id}/messages?limit=-1`],
      ['GET', '/v1/tags?limit=1e308'],
      ['GET', '/v1/tags?order_by=created_at'],
      ['GET', '/v1/tags?name=a&name=b'],
      ['GET', '/v1/tags?name=a%00'],
      ['GET', `/v1/tags?after=${'a'.repeat(300)}`],
      ['PATCH', feedback, { feedback: 'meh' }],
      ['PATCH', feedback, { feedback: 1 }],
      ['PATCH', feedback, { tags: 'kept' }],
      ['PATCH', feedback, { tags: [1] }],
      ['PATCH', feedback, { tags: ['x\u0000y'] }],
      ['PATCH', feedback, { tags: ['\ud800'] }],
      ['PATCH', feedback, { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }],
      ['PATCH', feedback, { tags: ['t'.repeat(300)] }],
      ['PATCH', feedback, []],
      ['PATCH', feedback, 42],
      ['PATCH', feedback, '{"feedback": "positive",'],
      ['PATCH', '/v1/steps/step-nope/feedback', { feedback: 'negative' }],
    ];
    for (const [method, path, body] of cases) {
      const answer = await call(keyA, method, path, body);
      const detail = (answer.body as { detail?: unknown } | undefined)?.detail;
      expect({ method, path, status: answer.status >= 400 && answer.status < 500, detail: typeof detail }).toEqual({ method, path, status: true, detail: 'string' });
    }
    expect(await acme.steps.retrieve(step.id)).toMatchObject({ feedback: 'positive', tags: ['kept'] });
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const document = (await call(keyA, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, { operationId: string }>>; components: { schemas: Record<string, unknown> } };
    expect(
      [
        ['/v1/steps', 'get'],
        ['/v1/steps/{step_id}', 'get'],
        ['/v1/steps/{step_id}/messages', 'get'],
        ['/v1/steps/{step_id}/metrics', 'get'],
        ['/v1/steps/{step_id}/trace', 'get'],
        ['/v1/steps/{step_id}/feedback', 'patch'],
        ['/v1/tags', 'get'],
      ].map(([path, method]) => document.paths[path]?.[method]?.operationId),
    ).toEqual(['list_steps', 'retrieve_step', 'list_messages_for_step', 'retrieve_metrics_for_step', 'retrieve_trace_for_step', 'modify_feedback_for_step', 'list_tags']);
    for (const schema of ['Step', 'StepMetrics', 'ProviderTrace', 'Tag']) expect(document.components.schemas[schema]).toBeDefined();
  });
});
