import { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { AgentStore } from './agent-store';
import { ToolStore } from './tool-store';
import { McpServerNameTaken, McpServerStore, type NewMcpServer } from './mcp-server-store';

const ORG = 'org-00000000-0000-4000-8000-000000000000';
const OTHER_ORG = 'org-11111111-1111-4111-8111-111111111111';

describe('MCP servers and their tool rows on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let agents: AgentStore;
  let tools: ToolStore;
  let servers: McpServerStore;

  const server = (serverName: string, organizationId = ORG): NewMcpServer => ({
    organizationId, serverName, serverType: 'streamable_http', serverUrl: 'https://mcp.example.com/mcp', authHeader: null, authToken: 'secret', customHeaders: null, command: null, args: null, env: null,
  });
  const listed = (...names: string[]) => names.map((name) => ({ name, description: `does ${name}`, inputSchema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { x: { type: 'string' } } } }));
  const agentWith = (toolNames: string[]) =>
    agents.create({
      organizationId: ORG, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
      memoryBlocks: [], tags: [], description: null, metadata: null, toolRules: [], toolNames, extra: {},
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    agents = new AgentStore(dataSource);
    tools = new ToolStore(dataSource);
    servers = new McpServerStore(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('keeps server names unique per organization and hides other organizations\' servers', async () => {
    const made = await servers.create(server('one'));
    expect(made.id).toMatch(/^mcp_server-/);
    await expect(servers.create(server('one'))).rejects.toBeInstanceOf(McpServerNameTaken);
    await servers.create(server('one', OTHER_ORG));
    expect(await servers.get(OTHER_ORG, made.id)).toBeNull();
    expect((await servers.list(ORG)).map((item) => item.serverName)).toEqual(['one']);
    await servers.delete(ORG, made.id);
  });

  it('syncs tool rows: adds, updates, deletes those gone (detached from agents), and skips names taken', async () => {
    const mcp = await servers.create(server('sync'));
    await tools.create({
      organizationId: ORG, name: 'taken', description: '', sourceType: 'python', sourceCode: 'def taken():\n    """T."""\n', jsonSchema: { name: 'taken', parameters: { type: 'object' } },
      argsJsonSchema: null, tags: [], returnCharLimit: 100, defaultRequiresApproval: null, pipRequirements: null, npmRequirements: null, metadata: null,
    });
    expect(await servers.syncTools(mcp, listed('alpha', 'beta', 'taken'), 1_000)).toEqual({ added: ['alpha', 'beta'], updated: [], deleted: [], skipped: [{ name: 'taken', reason: expect.stringContaining("named 'taken'") }] });
    const rows = await servers.tools(ORG, mcp.id);
    expect(rows.map((row) => [row.name, row.toolType, row.metadata, row.tags])).toEqual([
      ['alpha', 'external_mcp', { mcp: { server_name: 'sync', server_id: mcp.id } }, ['mcp:sync']],
      ['beta', 'external_mcp', { mcp: { server_name: 'sync', server_id: mcp.id } }, ['mcp:sync']],
    ]);
    // The schema's `$schema` is not offered to models.
    expect(rows[0].jsonSchema).toEqual({ name: 'alpha', description: 'does alpha', parameters: { type: 'object', properties: { x: { type: 'string' } } } });

    const agent = await agentWith(['alpha', 'beta', 'taken']);
    expect(await servers.syncTools(mcp, listed('alpha'), 1_000)).toMatchObject({ added: [], updated: ['alpha'], deleted: ['beta'] });
    expect((await agents.get(ORG, agent.id))!.toolNames).toEqual(['alpha', 'taken']);

    // A rename is the name every tool row carries.
    const renamed = await servers.update(ORG, mcp.id, { serverName: 'renamed' });
    expect(renamed!.serverName).toBe('renamed');
    expect((await servers.tools(ORG, mcp.id)).map((row) => [row.metadata, row.tags])).toEqual([[{ mcp: { server_name: 'renamed', server_id: mcp.id } }, ['mcp:renamed']]]);

    // Deleting the server deletes its tools and detaches them.
    expect(await servers.delete(ORG, mcp.id)).toBe(true);
    expect(await servers.tools(ORG, mcp.id)).toEqual([]);
    expect((await agents.get(ORG, agent.id))!.toolNames).toEqual(['taken']);
    expect(await servers.delete(ORG, mcp.id)).toBe(false);
  });

  it("adopts an imported tool waiting for a server of its name, and bounds the organization's tools", async () => {
    await tools.create({
      organizationId: ORG, name: 'waiting', description: '', toolType: 'external_mcp', sourceType: 'python', sourceCode: '', jsonSchema: { name: 'waiting', parameters: { type: 'object' } },
      argsJsonSchema: null, tags: [], returnCharLimit: 100, defaultRequiresApproval: null, pipRequirements: null, npmRequirements: null,
      metadata: { mcp: { server_name: 'files', server_id: 'mcp_server-00000000-0000-4000-8000-000000000abc' }, unavailable_reason: 'not registered' },
    });
    const files = await servers.create(server('files'));
    const count = (await tools.customToolCount(ORG)) + 1;
    const sync = await servers.syncTools(files, listed('waiting', 'fresh', 'overflow'), count);
    expect(sync).toMatchObject({ added: ['fresh'], updated: ['waiting'], skipped: [{ name: 'overflow', reason: expect.stringContaining('MAX_TOOLS_PER_ORGANIZATION') }] });
    const waiting = (await servers.tools(ORG, files.id)).find((row) => row.name === 'waiting')!;
    expect(waiting.metadata).toEqual({ mcp: { server_name: 'files', server_id: files.id } });
  });
});
