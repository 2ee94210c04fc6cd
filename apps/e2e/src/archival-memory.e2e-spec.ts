import { NotFoundError, UnprocessableEntityError, toFile } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { lettaClient, pollRun, promptMentioning, sendAsync } from './helpers';

/**
 * Archival memory through the official client: passages inserted by the API and by an agent's
 * tool, found by meaning (the fake model's embeddings: texts sharing words are close), archives
 * shared between agents, and the prompt's count of archival memories.
 */
describe('archival memory', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const toolInput = (tool: string, args: Record<string, unknown>, probe = '') => `${probe} [fake:toolsteps=1][fake:tool=${tool}][fake:args=${JSON.stringify(args)}]`;
  const lastToolReturn = async (runId: string) => {
    const messages = await lettaClient(stack).runs.messages.list(runId);
    return messages.getPaginatedItems().filter((message) => message.message_type === 'tool_return_message').at(-1) as { tool_return: string; status: string } | undefined;
  };

  it("inserts, lists, searches by meaning and deletes an agent's passages", async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Name: Ada' }] });
    const [coffee] = await client.agents.passages.create(agent.id, { text: 'Ada drinks her coffee black every morning', tags: ['habits'] });
    expect(coffee).toMatchObject({ text: 'Ada drinks her coffee black every morning', tags: ['habits'], embedding: null, embedding_config: { embedding_model: 'text-embedding-3-small', embedding_dim: 1536 } });
    await client.agents.passages.create(agent.id, { text: 'The quarterly budget review is on Friday', tags: ['work', 'meetings'], created_at: '2026-01-05T10:00:00Z' });
    await client.agents.passages.create(agent.id, { text: 'Her cat is called Turing', tags: ['pets'] });

    const listed = await client.agents.passages.list(agent.id);
    expect(listed).toHaveLength(3);
    expect(listed[0].text).toBe('The quarterly budget review is on Friday');
    expect((await client.agents.passages.list(agent.id, { search: 'CAT' })).map((p) => p.text)).toEqual(['Her cat is called Turing']);
    expect(await client.agents.passages.list(agent.id, { limit: 1, after: listed[0].id! })).toEqual([expect.objectContaining({ id: listed[1].id })]);

    const found = await client.agents.passages.search(agent.id, { query: 'how does Ada take her coffee?' });
    expect(found.count).toBe(3);
    expect(found.results[0]).toMatchObject({ id: coffee.id, content: 'Ada drinks her coffee black every morning', tags: ['habits'] });
    const tagged = await client.agents.passages.search(agent.id, { query: 'coffee', tags: ['work', 'pets'], tag_match_mode: 'any' });
    expect(tagged.results.map((r) => r.content).sort()).toEqual(['Her cat is called Turing', 'The quarterly budget review is on Friday']);
    expect((await client.agents.passages.search(agent.id, { query: 'meetings', tags: ['work', 'meetings'], tag_match_mode: 'all' })).count).toBe(1);
    expect((await client.agents.passages.search(agent.id, { query: 'budget', end_datetime: '2026-02-01T00:00:00Z' })).results.map((r) => r.content)).toEqual([
      'The quarterly budget review is on Friday',
    ]);
    expect((await client.agents.passages.search(agent.id, { query: 'budget', top_k: 1 })).results).toHaveLength(1);

    await client.agents.passages.delete(coffee.id!, { agent_id: agent.id });
    expect((await client.agents.passages.search(agent.id, { query: 'coffee black morning' })).results.map((r) => r.id)).not.toContain(coffee.id);
    await expect(client.agents.passages.delete(coffee.id!, { agent_id: agent.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("an agent's tool inserts a passage that a later run finds by meaning, and the prompt counts its archival memories", async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', tools: ['archival_memory_insert', 'archival_memory_search'] });
    const insertRun = await sendAsync(stack.baseUrl, agent.id, { input: toolInput('archival_memory_insert', { content: 'The launch rehearsal moved to Tuesday at noon', tags: ['launch'] }) });
    expect(await pollRun(stack.baseUrl, insertRun, undefined, 30_000)).toMatchObject({ status: 'completed' });
    expect((await lastToolReturn(insertRun))?.tool_return).toMatch(/^Stored in archival memory as passage-/);
    const stored = await client.agents.passages.list(agent.id);
    expect(stored.map((passage) => [passage.text, passage.tags])).toEqual([['The launch rehearsal moved to Tuesday at noon', ['launch']]]);

    const searchRun = await sendAsync(stack.baseUrl, agent.id, { input: toolInput('archival_memory_search', { query: 'when is the rehearsal for the launch?' }, 'archival-probe') });
    expect(await pollRun(stack.baseUrl, searchRun, undefined, 30_000)).toMatchObject({ status: 'completed' });
    const result = await lastToolReturn(searchRun);
    expect(result?.status).toBe('success');
    expect(JSON.parse(result!.tool_return)).toEqual([expect.objectContaining({ content: 'The launch rehearsal moved to Tuesday at noon', tags: ['launch'] })]);
    expect(promptMentioning(stack, 'archival-probe')).toContain('- 1 total memories you created are stored in archival memory');
  });

  it('shares an archive between two agents: both find its passages, and not after detach', async () => {
    const client = lettaClient(stack);
    const archive = await client.archives.create({ name: 'Team handbook', description: 'shared facts' });
    expect(archive).toMatchObject({ name: 'Team handbook', vector_db_provider: 'native', embedding_config: { handle: 'openai/text-embedding-3-small' } });
    const [first, second] = await Promise.all([client.agents.create({ model: 'openai/gpt-4o-mini' }), client.agents.create({ model: 'openai/gpt-4o-mini' })]);
    await client.agents.archives.attach(archive.id, { agent_id: first.id });
    await client.agents.archives.attach(archive.id, { agent_id: second.id });
    const batch = await client.archives.passages.createMany(archive.id, {
      passages: [{ text: 'Expenses are filed within thirty days' }, { text: 'The office closes on public holidays', tags: ['office'] }],
    });
    expect(batch).toHaveLength(2);
    await client.archives.passages.create(archive.id, { text: 'Laptops are replaced every three years' });

    for (const agent of [first, second]) {
      const found = await client.agents.passages.search(agent.id, { query: 'when are expenses filed', top_k: 1 });
      expect(found.results.map((r) => r.content)).toEqual(['Expenses are filed within thirty days']);
    }
    const top = await client.passages.search({ archive_id: archive.id, query: 'laptops replaced', limit: 2 });
    expect(top[0]).toMatchObject({ passage: { text: 'Laptops are replaced every three years', archive_id: archive.id } });
    expect(top[0].score).toBeGreaterThan(top[1].score);
    expect((await client.passages.search({ agent_id: first.id, tags: ['office'] })).map((r) => r.passage.text)).toEqual(['The office closes on public holidays']);
    expect((await client.archives.list({ agent_id: second.id })).getPaginatedItems().map((a) => a.id)).toEqual([archive.id]);

    await client.agents.archives.detach(archive.id, { agent_id: second.id });
    expect((await client.agents.passages.search(second.id, { query: 'when are expenses filed' })).count).toBe(0);
    expect((await client.agents.passages.search(first.id, { query: 'when are expenses filed' })).count).toBe(3);

    await client.archives.passages.delete(batch[0].id!, { archive_id: archive.id });
    expect((await client.archives.update(archive.id, { name: 'Handbook' })).name).toBe('Handbook');
    await client.archives.delete(archive.id);
    await expect(client.archives.retrieve(archive.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await client.agents.passages.search(first.id, { query: 'laptops' })).count).toBe(0);
  });

  it("carries an agent's passages in its agent file: the imported agent finds them by meaning", async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', name: 'archivist' });
    await client.agents.passages.create(agent.id, { text: 'The greenhouse key hangs behind the red door', tags: ['keys'], created_at: '2026-03-01T09:00:00Z' });
    await client.agents.passages.create(agent.id, { text: 'Tomatoes are watered every second evening' });
    const file = (await client.agents.exportFile(agent.id)) as unknown as { agents: { passages?: { text: string; tags: string[]; created_at: string }[] }[] };
    expect(file.agents[0].passages).toEqual([
      { text: 'The greenhouse key hangs behind the red door', tags: ['keys'], created_at: '2026-03-01T09:00:00.000Z' },
      { text: 'Tomatoes are watered every second evening', tags: [], created_at: expect.any(String) },
    ]);
    const imported = await client.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(file)), 'archivist.af') });
    const copy = imported.agent_ids[0];
    expect((await client.agents.passages.list(copy)).map((p) => [p.text, p.tags, p.created_at])).toEqual([
      ['The greenhouse key hangs behind the red door', ['keys'], '2026-03-01T09:00:00.000Z'],
      ['Tomatoes are watered every second evening', [], file.agents[0].passages![1].created_at],
    ]);
    expect((await client.agents.passages.search(copy, { query: 'where is the greenhouse key?', top_k: 1 })).results[0].content).toBe('The greenhouse key hangs behind the red door');

    // A passage the insert route would refuse makes the whole import fail, and creates nothing.
    const agentsBefore = (await client.agents.list()).getPaginatedItems().length;
    file.agents[0].passages = [{ text: '', tags: [], created_at: '2026-03-01T09:00:00Z' }];
    await expect(client.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(file)), 'bad.af') })).rejects.toMatchObject({ status: 400 });
    expect((await client.agents.list()).getPaginatedItems()).toHaveLength(agentsBefore);
  });

  it('retries an embedding call that fails like a model call, and stores nothing when it keeps failing', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    // The fake model fails the first N attempts at the same inputs; MODEL_MAX_ATTEMPTS is 3.
    const [stored] = await client.agents.passages.create(agent.id, { text: 'flaky but stored [fake:fail=2]' });
    expect(stored.text).toBe('flaky but stored [fake:fail=2]');
    await expect(client.agents.passages.create(agent.id, { text: 'never embedded [fake:fail=9]' })).rejects.toMatchObject({ status: 502 });
    expect((await client.agents.passages.list(agent.id)).map((p) => p.text)).toEqual(['flaky but stored [fake:fail=2]']);
  });

  it('refuses bad input with a detail and stores nothing', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const post = (path: string, body: unknown) =>
      fetch(`${stack.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    for (const [path, body] of [
      [`/v1/agents/${agent.id}/archival-memory`, { text: '' }],
      [`/v1/agents/${agent.id}/archival-memory`, { text: 'x'.repeat(32_001) }],
      [`/v1/agents/${agent.id}/archival-memory`, { text: 'ok', tags: 'not-a-list' }],
      [`/v1/agents/${agent.id}/archival-memory`, { text: 'ok', created_at: 'yesterday' }],
      [`/v1/agents/${agent.id}/archival-memory`, { text: 'ok', created_at: '-9999-01-01T00:00:00Z' }],
      ['/v1/passages/search', { agent_id: agent.id, query: 'x', start_date: '-0001-01-01T00:00:00Z' }],
      [`/v1/agents/${agent.id}/archival-memory`, '{"text": "nul \\u0000 here"}'],
      [`/v1/agents/${agent.id}/archival-memory`, '{"text": "lone \\ud800 surrogate"}'],
      ['/v1/passages/search', { query: 'x' }],
      ['/v1/passages/search', { agent_id: 'agent-1', query: 'x' }],
      ['/v1/passages/search', { agent_id: agent.id, limit: 1e9 }],
      ['/v1/archives/archive-00000000-0000-4000-8000-000000000000/passages/batch', { passages: [] }],
    ] as const) {
      const response = await post(path, body);
      expect([path, response.status]).toEqual([path, expect.any(Number)]);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(((await response.json()) as { detail?: unknown }).detail).toEqual(expect.any(String));
    }
    expect(await client.agents.passages.list(agent.id)).toEqual([]);
    await expect(client.agents.passages.search(agent.id, { query: 'x', top_k: 0 })).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(client.agents.passages.create('agent-00000000-0000-4000-8000-000000000000', { text: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.archives.passages.create('archive-00000000-0000-4000-8000-000000000000', { text: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.agents.archives.attach('archive-00000000-0000-4000-8000-000000000000', { agent_id: agent.id })).rejects.toBeInstanceOf(NotFoundError);
  });
});
