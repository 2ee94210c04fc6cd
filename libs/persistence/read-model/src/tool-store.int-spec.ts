import { DataSource } from 'typeorm';
import { BASE_TOOLS } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore } from './agent-store';
import { AgentSecretStore, ToolNameTaken, ToolStore, type NewTool } from './tool-store';
import { SECRET_MASK, agentTools, toAgentView } from './agent-views';
import { UnknownCursor } from './pagination';

const ORG = 'org-00000000-0000-4000-8000-000000000000';
const OTHER_ORG = 'org-11111111-1111-4111-8111-111111111111';

describe('custom tools and agent secrets on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;
  let tools: ToolStore;
  let secrets: AgentSecretStore;

  const tool = (name: string, fields: Partial<NewTool> = {}): NewTool => ({
    organizationId: ORG,
    name,
    description: `does ${name}`,
    sourceType: 'python',
    sourceCode: `def ${name}():\n    """Does it."""\n    return 1\n`,
    jsonSchema: { name, description: `does ${name}`, parameters: { type: 'object', properties: {}, required: [] } },
    argsJsonSchema: null,
    tags: [],
    returnCharLimit: 50_000,
    defaultRequiresApproval: null,
    pipRequirements: null,
    npmRequirements: null,
    metadata: null,
    ...fields,
  });
  const createAgent = (toolNames: string[], organizationId = ORG, agentSecrets?: Record<string, string>) =>
    agents.create({
      organizationId, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks: [], tags: [], description: null, metadata: null, toolRules: [], toolNames, extra: {}, secrets: agentSecrets,
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    agents = new AgentStore(dataSource);
    tools = new ToolStore(dataSource);
    secrets = new AgentSecretStore(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('keeps names unique per organization, and another organization does not see the tool', async () => {
    const made = await tools.create(tool('lookup_order'));
    await expect(tools.create(tool('lookup_order'))).rejects.toBeInstanceOf(ToolNameTaken);
    const theirs = await tools.create(tool('lookup_order', { organizationId: OTHER_ORG }));
    expect(theirs.id).not.toBe(made.id);
    expect(await tools.get(OTHER_ORG, made.id)).toBeNull();
    expect((await tools.get(ORG, made.id))?.name).toBe('lookup_order');
    expect((await tools.getByName(ORG, 'memory_insert'))?.toolType).toBe('letta_memory_core');
  });

  it('lists base and custom tools as one list, paged by cursor in both orders, with filters', async () => {
    const org = 'org-22222222-2222-4222-8222-222222222222';
    for (const name of ['alpha', 'beta', 'gamma']) await tools.create(tool(name, { organizationId: org, tags: [name === 'beta' ? 'b' : 'x'] }));
    const all = await tools.list(org, { limit: 1000, order: 'asc' });
    expect(all.map((t) => t.name)).toEqual([...BASE_TOOLS.map((t) => t.name).sort((a, b) => BASE_TOOLS.find((t) => t.name === a)!.id.localeCompare(BASE_TOOLS.find((t) => t.name === b)!.id)), 'alpha', 'beta', 'gamma']);
    // Walk the whole list two at a time, forwards and backwards: nothing repeats, nothing is skipped.
    for (const order of ['asc', 'desc'] as const) {
      const walked: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await tools.list(org, { limit: 2, order, after });
        if (!page.length) break;
        walked.push(...page.map((t) => t.name));
        after = page[page.length - 1].id;
      }
      expect(walked).toEqual(order === 'asc' ? all.map((t) => t.name) : all.map((t) => t.name).reverse());
    }
    expect((await tools.list(org, { limit: 10, order: 'asc', toolTypes: ['custom'] })).map((t) => t.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect((await tools.list(org, { limit: 10, order: 'asc', excludeToolTypes: ['custom', 'letta_memory_core', 'letta_builtin'] })).map((t) => t.name)).toEqual(['conversation_search']);
    expect((await tools.list(org, { limit: 10, order: 'asc', search: 'AMM' })).map((t) => t.name)).toEqual(['gamma']);
    expect((await tools.list(org, { limit: 10, order: 'asc', tags: ['b'] })).map((t) => t.name)).toEqual(['beta']);
    expect((await tools.list(org, { limit: 10, order: 'asc', names: ['beta', 'memory_insert'] })).map((t) => t.name)).toEqual(['memory_insert', 'beta']);
    const someoneElses = (await tools.list(ORG, { limit: 1, order: 'asc', toolTypes: ['custom'] }))[0];
    await expect(tools.list(org, { limit: 10, order: 'asc', after: someoneElses.id })).rejects.toBeInstanceOf(UnknownCursor);
    expect(await tools.customToolCount(org)).toBe(3);
  });

  it('renames a tool on every agent that has it, and deleting it detaches it from them', async () => {
    const made = await tools.create(tool('send_invoice'));
    const agent = await createAgent(['memory_insert', 'send_invoice']);
    expect(agentTools(agent).map((t) => t.name)).toEqual(['memory_insert', 'send_invoice']);
    const renamed = await tools.update(ORG, made.id, { name: 'send_bill', sourceCode: 'def send_bill():\n    return 2\n' });
    expect(renamed?.name).toBe('send_bill');
    const reloaded = (await agents.get(ORG, agent.id))!;
    expect(reloaded.toolNames).toEqual(['memory_insert', 'send_bill']);
    expect(reloaded.customTools?.map((t) => t.sourceCode)).toEqual(['def send_bill():\n    return 2\n']);
    await tools.create(tool('taken'));
    await expect(tools.update(ORG, made.id, { name: 'taken' })).rejects.toBeInstanceOf(ToolNameTaken);
    expect(await tools.update(OTHER_ORG, made.id, { description: 'x' })).toBeNull();
    expect(await tools.delete(OTHER_ORG, made.id)).toBe(false);
    expect(await tools.delete(ORG, made.id)).toBe(true);
    expect((await agents.get(ORG, agent.id))!.toolNames).toEqual(['memory_insert']);
  });

  it('upserts by name, and two upserts of a new name at once make one tool', async () => {
    const first = await tools.upsert(tool('weather'));
    expect(first.created).toBe(true);
    const second = await tools.upsert(tool('weather', { description: 'new' }));
    expect(second).toMatchObject({ created: false, tool: { id: first.tool.id, description: 'new' } });
    const racing = await Promise.all([tools.upsert(tool('race')), tools.upsert(tool('race'))]);
    expect(new Set(racing.map((r) => r.tool.id)).size).toBe(1);
    expect(racing.filter((r) => r.created)).toHaveLength(1);
  });

  it('keeps secret values out of agent views, replaces the set on change, and keeps a value written back masked', async () => {
    const agent = await createAgent([], ORG, { API_KEY: 'k-1', REGION: 'eu' });
    expect(agent.secretKeys).toEqual(['API_KEY', 'REGION']);
    const view = toAgentView((await agents.get(ORG, agent.id))!);
    expect(view.secrets).toEqual([
      { agent_id: agent.id, key: 'API_KEY', value: SECRET_MASK, description: null },
      { agent_id: agent.id, key: 'REGION', value: SECRET_MASK, description: null },
    ]);
    expect(JSON.stringify(view)).not.toContain('k-1');
    await agents.update(ORG, agent.id, { secrets: { API_KEY: SECRET_MASK, TOKEN: 't' } });
    expect(await secrets.values(agent.id)).toEqual({ API_KEY: 'k-1', TOKEN: 't' });
    const other = await createAgent([], ORG, { API_KEY: 'other' });
    expect(await secrets.values(other.id)).toEqual({ API_KEY: 'other' });
    await agents.delete(ORG, agent.id);
    expect(await secrets.values(agent.id)).toEqual({});
  });
});
