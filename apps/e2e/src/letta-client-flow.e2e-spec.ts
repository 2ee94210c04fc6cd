import { NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { CallbackReceiver, TestStack } from '@lrs/testing';
import { getJson, lettaClient, pollRun } from './helpers';

/** The "done when": the official client drives the async flow end to end against every service. */
describe('official @letta-ai/letta-client against the full stack', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([TestStack.start(), CallbackReceiver.start()]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('creates an agent, runs an async message with a callback, and reads back run, messages, steps and usage', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({
      name: 'flow-agent',
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Name: Ada' }],
      tags: ['e2e'],
    });
    expect(agent.id).toMatch(/^agent-[0-9a-f-]{36}$/);

    const retrieved = await client.agents.retrieve(agent.id);
    expect(retrieved.name).toBe('flow-agent');
    expect(retrieved.blocks?.map((block) => block.value)).toEqual(['Name: Ada']);

    const listed: string[] = [];
    for await (const item of client.agents.list({ limit: 1 })) listed.push(item.id);
    expect(listed).toContain(agent.id);

    const updated = await client.agents.update(agent.id, { description: 'updated by e2e' });
    expect(updated.description).toBe('updated by e2e');

    const run = await client.agents.messages.createAsync(agent.id, {
      messages: [{ role: 'user', content: 'What is my name?' }],
      callback_url: receiver.url('/flow'),
    });
    expect(run.status).toBe('created');
    expect(run.agent_id).toBe(agent.id);
    // Read your writes: the run is visible the moment the create call returned.
    expect((await client.runs.retrieve(run.id!)).id).toBe(run.id);

    const finished = await pollRun(stack.baseUrl, run.id!);
    expect(finished).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(finished.ttft_ns).toEqual(expect.any(Number));
    expect(finished.total_duration_ns).toEqual(expect.any(Number));

    const messages = [];
    for await (const message of client.runs.messages.list(run.id!)) messages.push(message);
    expect(messages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
    expect(messages[1]).toMatchObject({ content: 'Echo: What is my name?', run_id: run.id });

    // The prompt carried the system prompt with the memory block compiled in.
    const prompt = JSON.stringify(stack.model.requests.at(-1)?.body);
    expect(prompt).toContain('Name: Ada');

    await receiver.waitFor(() => receiver.forPath('/flow').length === 1);
    const callback = receiver.forPath('/flow')[0];
    const payload = callback.body as { run_id: string; status: string; metadata: { result: { messages: unknown[]; stop_reason: unknown; usage: { step_count: number } } } };
    expect(payload.run_id).toBe(run.id);
    expect(payload.status).toBe('completed');
    expect(payload.metadata.result.messages).toEqual(await getJson(stack.baseUrl, `/v1/runs/${run.id}/messages`));
    expect(payload.metadata.result.stop_reason).toEqual({ message_type: 'stop_reason', stop_reason: 'end_turn' });
    expect(payload.metadata.result.usage.step_count).toBe(1);
    expect(callback.headers['webhook-id']).toBe(run.id);

    const recorded = await pollRun(stack.baseUrl, run.id!, (r) => r.callback_status_code !== null);
    expect(recorded.callback_status_code).toBe(200);
    expect(recorded.callback_sent_at).toEqual(expect.stringMatching(/\+00:00$/));
    expect(recorded.callback_error).toBeNull();

    const runsOfAgent = [];
    for await (const item of client.runs.list({ agent_id: agent.id })) runsOfAgent.push(item.id);
    expect(runsOfAgent).toEqual([run.id]);

    const steps = [];
    for await (const step of client.runs.steps.list(run.id!)) steps.push(step);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ run_id: run.id, status: 'success', model: 'gpt-4o-mini' });

    const usage = await client.runs.usage.retrieve(run.id!);
    expect(usage.total_tokens).toBe(steps[0].total_tokens);
    expect(usage.total_tokens).toBeGreaterThan(0);

    await client.agents.delete(agent.id);
    await expect(client.agents.retrieve(agent.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('answers unknown ids with 404 and malformed ids with 4xx through the client', async () => {
    const client = lettaClient(stack);
    await expect(client.agents.retrieve('agent-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.runs.retrieve('run-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.agents.retrieve('not-an-agent-id')).rejects.toBeInstanceOf(UnprocessableEntityError);
  });
});

describe('OpenAPI document', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ services: ['gateway'] });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('describes every route with Letta operation ids and resolvable request and response schemas', async () => {
    const document = (await fetch(`${stack.baseUrl}/openapi.json`).then((r) => r.json())) as {
      paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: { $ref?: string } }> }; responses: Record<string, { content?: Record<string, { schema: { $ref?: string; items?: { $ref?: string } } }> }> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));
    const ids = operations.map((operation) => operation.operationId);
    expect(ids).toEqual(
      expect.arrayContaining(['create_agent_message_async', 'send_message', 'create_agent_message_stream', 'retrieve_run', 'list_runs', 'retrieve_stream', 'cancel_agent_run', 'delete_run', 'list_messages', 'create_conversation', 'send_conversation_message']),
    );
    expect(new Set(ids).size).toBe(ids.length);
    const resolve = (ref: string | undefined) => (ref ? document.components.schemas[ref.split('/').at(-1)!] : undefined);
    for (const operation of operations) {
      const body = operation.requestBody?.content['application/json']?.schema;
      if (body?.$ref) expect({ op: operation.operationId, properties: Object.keys(resolve(body.$ref)?.properties ?? {}).length > 0 }).toEqual({ op: operation.operationId, properties: true });
      const ok = Object.values(operation.responses['200']?.content ?? {})[0]?.schema;
      expect({ op: operation.operationId, described: Boolean(resolve(ok?.$ref ?? ok?.items?.$ref)) }).toEqual({ op: operation.operationId, described: true });
    }
    const asyncBody = resolve(document.paths['/v1/agents/{agent_id}/messages/async'].post.requestBody?.content['application/json'].schema.$ref);
    expect(Object.keys(asyncBody?.properties ?? {})).toEqual(expect.arrayContaining(['messages', 'input', 'max_steps', 'callback_url', 'client_tools']));
    expect((await fetch(`${stack.baseUrl}/docs`)).status).toBe(200);
  });
});
