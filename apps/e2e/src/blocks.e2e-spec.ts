import Letta, { NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { Client } from 'pg';
import { TestStack } from '@lrs/testing';
import { organizationKey, promptMentioning } from './helpers';

const BOOTSTRAP_KEY = 'lrs-e2e-bootstrap-admin-key-blocks-0123456789';

/**
 * Letta's standalone blocks (`client.blocks`) through the official client: a block made on its
 * own, shared by agents, changed once and seen in every one's next prompt, deleted from all of
 * them at once; hidden from other organizations; hostile input refused with nothing written.
 */
describe('standalone memory blocks', () => {
  let stack: TestStack;
  let db: Client;
  let acme: Letta;
  let globex: Letta;
  let keyA: string;
  let keyB: string;

  const call = async (key: string, method: string, path: string, body?: string) => {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body,
    });
    const text = await response.text();
    return { status: response.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : { text }) as { detail?: unknown } };
  };
  const rowCounts = async () => {
    const counts: Record<string, number> = {};
    for (const table of ['blocks', 'agent_blocks', 'block_edits']) counts[table] = Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
    return counts;
  };

  beforeAll(async () => {
    stack = await TestStack.start({ env: { BOOTSTRAP_API_KEY: BOOTSTRAP_KEY } });
    db = new Client({ connectionString: stack.database.url });
    await db.connect();
    const key = (organization: string) => organizationKey(stack, BOOTSTRAP_KEY, organization);
    [keyA, keyB] = [await key('acme'), await key('globex')];
    const client = (apiKey: string) => new Letta({ baseURL: stack.baseUrl, apiKey, maxRetries: 0, timeout: 20_000 });
    [acme, globex] = [client(keyA), client(keyB)];
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('creates, retrieves, updates, lists and deletes a block', async () => {
    const block = await acme.blocks.create({ label: 'glossary', value: 'ADE: agent dev env', limit: 200, description: 'terms', metadata: { source: 'wiki' }, tags: ['docs'], is_template: false, project_id: 'ignored' });
    expect(block).toMatchObject({ label: 'glossary', value: 'ADE: agent dev env', limit: 200, description: 'terms', metadata: { source: 'wiki' }, tags: ['docs'], read_only: false });
    expect(block.id).toMatch(/^block-[0-9a-f-]{36}$/);
    expect(await acme.blocks.retrieve(block.id)).toEqual(block);

    const updated = await acme.blocks.update(block.id, { value: 'ADE: agent development environment', tags: ['docs', 'terms'], label: null });
    expect(updated).toMatchObject({ id: block.id, label: 'glossary', value: 'ADE: agent development environment', limit: 200, tags: ['docs', 'terms'] });
    await expect(acme.blocks.update(block.id, { value: 'x'.repeat(201) })).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(acme.blocks.create({ label: 'big', value: 'x'.repeat(11), limit: 10 })).rejects.toBeInstanceOf(UnprocessableEntityError);

    const other = await acme.blocks.create({ label: 'scratch', value: 'temporary', tags: ['docs'] });
    const listed = async (query: NonNullable<Parameters<Letta['blocks']['list']>[0]>) => (await acme.blocks.list({ tags: ['docs'], ...query })).getPaginatedItems().map((b) => b.label);
    expect(await listed({})).toEqual(['glossary', 'scratch']);
    expect(await listed({ label: 'scratch' })).toEqual(['scratch']);
    expect(await listed({ value_search: 'DEVELOPMENT' })).toEqual(['glossary']);
    expect(await listed({ description_search: 'term' })).toEqual(['glossary']);
    expect(await listed({ label_search: 'scr' })).toEqual(['scratch']);
    expect(await listed({ order: 'desc', limit: 1 })).toEqual(['scratch']);
    expect(await listed({ after: block.id })).toEqual(['scratch']);
    expect(await listed({ connected_to_agents_count_eq: [0] })).toEqual(['glossary', 'scratch']);
    expect(await listed({ templates_only: true })).toEqual([]);
    // The client's auto-pagination follows the after cursor page by page.
    const all: string[] = [];
    for await (const item of acme.blocks.list({ tags: ['docs'], limit: 1 })) all.push(item.label!);
    expect(all).toEqual(['glossary', 'scratch']);

    await acme.blocks.delete(other.id);
    await expect(acme.blocks.retrieve(other.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(acme.blocks.delete(other.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await listed({})).toEqual(['glossary']);
  });

  it('one block shared by two agents: updated once, both next prompts show it; deleting it detaches it everywhere', async () => {
    const team = await acme.blocks.create({ label: 'team', value: 'Standup at 9' });
    const solo = await acme.blocks.create({ label: 'solo', value: 'only the first agent has it' });
    const first = await acme.agents.create({ model: 'openai/gpt-4o-mini', block_ids: [team.id, solo.id], memory_blocks: [{ label: 'human', value: 'Ann' }] });
    const second = await acme.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Bob' }] });
    await acme.agents.blocks.attach(team.id, { agent_id: second.id });

    const attached = (await acme.blocks.agents.list(team.id)).getPaginatedItems();
    // Newest first, as Letta lists them; each is the full AgentState with the block in it.
    expect(attached.map((agent) => agent.id)).toEqual([second.id, first.id]);
    expect(attached.every((agent) => agent.blocks.some((block) => block.id === team.id))).toBe(true);
    expect((await acme.blocks.agents.list(team.id, { order: 'asc', limit: 1 })).getPaginatedItems().map((agent) => agent.id)).toEqual([first.id]);
    expect((await acme.blocks.list({ label: 'team', connected_to_agents_count_gt: 1 })).getPaginatedItems().map((b) => b.id)).toEqual([team.id]);

    await acme.blocks.update(team.id, { value: 'Standup moved to 10 (shared-update)' });
    await acme.agents.messages.create(first.id, { input: 'when is standup? probe-first' });
    await acme.agents.messages.create(second.id, { input: 'when is standup? probe-second' });
    expect(promptMentioning(stack, 'probe-first')).toContain('Standup moved to 10 (shared-update)');
    expect(promptMentioning(stack, 'probe-second')).toContain('Standup moved to 10 (shared-update)');
    expect((await acme.agents.blocks.retrieve('team', { agent_id: second.id })).value).toBe('Standup moved to 10 (shared-update)');

    // Deleting an agent keeps the blocks made on their own, even one no other agent has.
    await acme.agents.delete(first.id);
    expect((await acme.blocks.retrieve(team.id)).value).toBe('Standup moved to 10 (shared-update)');
    expect(await acme.blocks.retrieve(solo.id)).toMatchObject({ value: 'only the first agent has it' });
    expect((await acme.blocks.agents.list(solo.id)).getPaginatedItems()).toEqual([]);

    await acme.blocks.delete(team.id);
    expect((await acme.agents.retrieve(second.id)).blocks.map((block) => block.label)).toEqual(['human']);
    await acme.agents.messages.create(second.id, { input: 'and now? probe-after-delete' });
    expect(promptMentioning(stack, 'probe-after-delete')).not.toContain('Standup moved');
    await expect(acme.blocks.agents.list(team.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(acme.agents.blocks.attach(team.id, { agent_id: second.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("answers 404 with a detail for another organization's block on every route, and lists only the caller's", async () => {
    const block = await acme.blocks.create({ label: 'secret', value: 'acme only', tags: ['private'] });
    const before = await acme.blocks.retrieve(block.id);
    for (const [method, path, body] of [
      ['GET', `/v1/blocks/${block.id}`],
      ['PATCH', `/v1/blocks/${block.id}`, '{"value": "globex was here"}'],
      ['DELETE', `/v1/blocks/${block.id}`],
      ['GET', `/v1/blocks/${block.id}/agents`],
    ] as const) {
      const answer = await call(keyB, method, path, body);
      expect({ path, method, status: answer.status, detail: typeof answer.body.detail }).toEqual({ path, method, status: 404, detail: 'string' });
    }
    await expect(globex.blocks.retrieve(block.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await globex.blocks.list({ tags: ['private'] })).getPaginatedItems()).toEqual([]);
    expect((await call(keyB, 'GET', `/v1/blocks?after=${block.id}`)).status).toBe(400);
    expect(await acme.blocks.retrieve(block.id)).toEqual(before);
  });

  it('refuses hostile input with a 4xx and a detail, and writes nothing', async () => {
    const block = await acme.blocks.create({ label: 'target', value: 'unchanged' });
    const before = await rowCounts();
    const bodies: [string, string, string][] = [
      ['POST', '/v1/blocks', '{"label": "a\\u0000b", "value": "v"}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "\\ud800"}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "v", "limit": 1e308}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "v", "limit": 3000000000}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "v", "limit": 0}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": 5}'],
      ['POST', '/v1/blocks', '{"label": ["ok"], "value": "v"}'],
      ['POST', '/v1/blocks', `{"label": "${'l'.repeat(3_000)}", "value": "v"}`],
      ['POST', '/v1/blocks', '{"label": "has space", "value": "v"}'],
      ['POST', '/v1/blocks', '{"value": "v"}'],
      ['POST', '/v1/blocks', `{"label": "ok", "value": "v", "tags": ${JSON.stringify(Array.from({ length: 7_000 }, (_, i) => `t${i}`))}}`],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "v", "tags": "docs"}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "v", "metadata": "x"}'],
      ['POST', '/v1/blocks', '{"label": "ok", "value": "v", "read_only": "yes"}'],
      ['POST', '/v1/blocks', '{"label": "ok",'],
      ['PATCH', `/v1/blocks/${block.id}`, '{"value": "a\\u0000b"}'],
      ['PATCH', `/v1/blocks/${block.id}`, '{"limit": -1}'],
      ['PATCH', `/v1/blocks/${block.id}`, '{"limit": 1e308}'],
      ['PATCH', `/v1/blocks/${block.id}`, '{"value": ["x"]}'],
      ['PATCH', `/v1/blocks/${block.id}`, '{"limit": 3, "value": "too long"}'],
      ['PATCH', `/v1/blocks/${block.id}`, `{"tags": [${'"t",'.repeat(200)}"t"]}`],
      ['PATCH', '/v1/blocks/block-1', '{"value": "v"}'],
      ['DELETE', '/v1/blocks/block-1', ''],
      ['DELETE', '/v1/blocks/%00', ''],
      ['GET', '/v1/blocks?limit=1e308', ''],
      ['GET', '/v1/blocks?limit=0', ''],
      ['GET', '/v1/blocks?connected_to_agents_count_gt=1e308', ''],
      ['GET', '/v1/blocks?connected_to_agents_count_eq=x', ''],
      ['GET', '/v1/blocks?connected_to_agents_count_lt=-1', ''],
      ['GET', `/v1/blocks?value_search=%00`, ''],
      ['GET', `/v1/blocks?tags=${Array.from({ length: 101 }, (_, i) => `t${i}`).join('&tags=')}`, ''],
      ['GET', '/v1/blocks?order=sideways', ''],
      ['GET', '/v1/blocks?after=block-00000000-0000-4000-8000-000000000000', ''],
      ['GET', '/v1/blocks/not-a-block/agents', ''],
      ['GET', `/v1/blocks/${block.id}/agents?limit=5000`, ''],
    ];
    for (const [method, path, body] of bodies) {
      const answer = await call(keyA, method, path, body || undefined);
      expect({ method, path: path.slice(0, 80), body: body.slice(0, 80), status: answer.status >= 400 && answer.status < 500, detail: typeof answer.body.detail }).toEqual({
        method,
        path: path.slice(0, 80),
        body: body.slice(0, 80),
        status: true,
        detail: 'string',
      });
    }
    expect(await rowCounts()).toEqual(before);
    expect(await acme.blocks.retrieve(block.id)).toMatchObject({ value: 'unchanged', limit: 100_000, tags: [] });
  });
});
