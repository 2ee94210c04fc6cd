import { startFakeModelServer, type FakeModelServer } from '@lrs/fake-model';
import { freePort } from '@lrs/local-stack';
import { TestStack } from '@lrs/testing';
import { lettaClient, pollRun, sendAsync, waitUntil } from './helpers';

/**
 * Several OpenAI-compatible providers by handle prefix: the stack's fake model is `openai`, a
 * second fake server is `second`, and `down` names an address nothing listens on. Each agent's
 * calls reach its own provider; the model lists show what every reachable provider lists, and a
 * provider that is down costs its models, not the answer.
 */
describe('model providers', () => {
  let stack: TestStack;
  let second: FakeModelServer;

  beforeAll(async () => {
    second = await startFakeModelServer();
    stack = await TestStack.start({
      env: {
        PROVIDERS: 'second,down',
        SECOND_BASE_URL: second.url,
        SECOND_API_KEY: 'second-key',
        DOWN_BASE_URL: `http://127.0.0.1:${await freePort()}/v1`,
        // What the down provider is configured with: listed in its place.
        DEFAULT_MODEL_HANDLE: 'down/chat-model',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await second?.close();
  });

  const chatRequestsWith = (server: FakeModelServer, marker: string) => server.requests.filter((request) => request.path.endsWith('/chat/completions') && JSON.stringify(request.body).includes(marker));

  it("sends each agent's model calls to the provider its handle names, as the model after the prefix", async () => {
    const client = lettaClient(stack);
    const onOpenai = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const onSecond = await client.agents.create({ model: 'second/gpt-4o-mini' });
    const marker = `route-${Date.now()}`;
    const runs = await Promise.all([sendAsync(stack.baseUrl, onOpenai.id, { input: `${marker}-one` }), sendAsync(stack.baseUrl, onSecond.id, { input: `${marker}-two` })]);
    for (const runId of runs) expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed' });

    expect(chatRequestsWith(stack.model, `${marker}-one`)).toHaveLength(1);
    expect(chatRequestsWith(stack.model, `${marker}-two`)).toHaveLength(0);
    const [atSecond] = chatRequestsWith(second, `${marker}-two`);
    expect(chatRequestsWith(second, `${marker}-one`)).toHaveLength(0);
    expect(atSecond.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(atSecond.headers.authorization).toBe('Bearer second-key');
    expect(chatRequestsWith(stack.model, `${marker}-one`)[0].headers.authorization).toBe('Bearer test-key');
  });

  it("embeds with the provider of the archive's embedding handle", async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', embedding: 'second/text-embedding-3-small' });
    const text = `embedded at second ${Date.now()}`;
    await client.agents.passages.create(agent.id, { text });
    const embeddings = (server: FakeModelServer) => server.requests.filter((request) => request.path.endsWith('/embeddings') && JSON.stringify(request.body).includes(text));
    expect(embeddings(second)).toEqual([expect.objectContaining({ body: expect.objectContaining({ model: 'text-embedding-3-small' }) })]);
    expect(embeddings(stack.model)).toHaveLength(0);
  });

  it('fails the run of a handle whose provider is not configured, saying so', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'ghost/gpt-4o-mini' });
    const run = await pollRun(stack.baseUrl, await sendAsync(stack.baseUrl, agent.id, { input: 'anyone there?' }));
    expect(run).toMatchObject({ status: 'failed', stop_reason: 'llm_api_error' });
    const error = String((run.metadata as { error?: unknown }).error);
    expect(error).toContain('llm_provider_not_configured');
    expect(error).toContain("model provider 'ghost' of the handle 'ghost/gpt-4o-mini' is not configured on this server (configured: openai, second, down)");
  });

  it("lists every provider's chat and embedding models through the official client, a provider that is down by its configured models", async () => {
    const client = lettaClient(stack);
    const models = await client.models.list();
    expect(models.map((model) => model.handle).sort()).toEqual(['down/chat-model', 'openai/gpt-4o-mini', 'second/gpt-4o-mini']);
    expect(models.find((model) => model.handle === 'second/gpt-4o-mini')).toMatchObject({
      name: 'gpt-4o-mini',
      model: 'gpt-4o-mini',
      display_name: 'gpt-4o-mini',
      provider_name: 'second',
      provider_type: 'openai',
      provider_category: 'base',
      model_endpoint_type: 'openai',
      context_window: 128_000,
      max_context_window: 128_000,
    });
    expect((await client.models.list({ provider_name: 'second' })).map((model) => model.handle)).toEqual(['second/gpt-4o-mini']);
    expect(await client.models.list({ provider_category: ['byok'] })).toEqual([]);

    const embeddings = await client.models.embeddings.list();
    expect(embeddings.map((model) => model.handle).sort()).toEqual(['openai/text-embedding-3-small', 'second/text-embedding-3-small']);
    expect(embeddings.every((model) => model.embedding_dim === 1536 && model.embedding_endpoint_type === 'openai' && model.embedding_model === 'text-embedding-3-small')).toBe(true);

    // The provider that failed is named in the worker's log.
    await waitUntil(() => stack.logs.some((line) => line.includes("provider 'down' did not list its models")), 5_000);
  });

  it("refuses a filter Letta does not have, and describes both routes with Letta's operation ids", async () => {
    const refused = await fetch(`${stack.baseUrl}/v1/models/?provider_type=nope`);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual({ detail: expect.stringContaining('provider_type') });
    const document = (await fetch(`${stack.baseUrl}/openapi.json`).then((response) => response.json())) as {
      paths: Record<string, { get: { operationId: string; responses: Record<string, { content: Record<string, { schema: { items: { $ref: string } } }> }> } }>;
      components: { schemas: Record<string, unknown> };
    };
    for (const [path, operationId, schema] of [['/v1/models', 'list_models', 'Model'], ['/v1/models/embedding', 'list_embedding_models', 'EmbeddingModel']]) {
      const operation = document.paths[path].get;
      expect(operation.operationId).toBe(operationId);
      expect(operation.responses['200'].content['application/json'].schema.items.$ref).toBe(`#/components/schemas/${schema}`);
      expect(document.components.schemas[schema]).toBeDefined();
    }
  });
});
