import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestError, NotFoundError, toFile } from '@letta-ai/letta-client';
import { READ_MODEL_MIGRATIONS } from '@lrs/read-model';
import { TestStack } from '@lrs/testing';
import { lettaClient, promptMentioning } from './helpers';

interface ExportedFile {
  agents: { name: string; block_ids: string[]; tool_ids: string[]; in_context_message_ids: string[]; messages: { role: string; content: { text?: string }[] }[] }[];
  blocks: { id: string; label: string; value: string }[];
  tools: { id: string; name: string }[];
  metadata: { revision_id: string };
}

/** A file Letta's server writes (v2 layout: file-local ids, internal message format). */
const LETTA_EXPORT = readFileSync(join(__dirname, 'fixtures', 'support-bot.af'), 'utf8');

describe('agent files (export and import)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const promptFor = (text: string): string => promptMentioning(stack, text);
  const agentCount = async () => (await lettaClient(stack).agents.list({ limit: 1000 })).getPaginatedItems().length;

  it('exports an agent and imports it back as a new agent that remembers the conversation', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ name: 'travel', model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Prefers trains', limit: 3000 }], tags: ['trips'] });
    await client.agents.messages.create(agent.id, { input: 'my destination is Lisbon' });

    const file = (await client.agents.exportFile(agent.id)) as unknown as ExportedFile;
    expect(file.agents).toHaveLength(1);
    expect(file.agents[0].name).toBe('travel');
    expect(file.agents[0].messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(file.agents[0].messages[0].content[0].text).toContain('Prefers trains');
    expect(file.blocks.map((b) => [b.label, b.value])).toEqual([['human', 'Prefers trains']]);
    expect(file.tools.map((t) => t.name).sort()).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
    // Letta writes its schema revision here; ours is the newest read-model migration.
    expect(file.metadata.revision_id).toBe(new READ_MODEL_MIGRATIONS[READ_MODEL_MIGRATIONS.length - 1]().name);

    const { agent_ids } = await client.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(file)), 'travel.af') });
    expect(agent_ids).toHaveLength(1);
    const imported = await client.agents.retrieve(agent_ids[0]);
    expect(imported.id).not.toBe(agent.id);
    expect(imported.name).toBe('travel_copy');
    expect(imported.tags).toEqual(['trips']);
    expect(imported.blocks.map((b) => [b.label, b.value, b.limit])).toEqual([['human', 'Prefers trains', 3000]]);
    expect(imported.tools.map((t) => t.name).sort()).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
    const history = (await client.agents.messages.list(imported.id, { order: 'asc' })).getPaginatedItems();
    expect(history.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);

    await client.agents.messages.create(imported.id, { input: 'where am I going? import-probe' });
    expect(promptFor('import-probe')).toContain('my destination is Lisbon');
    expect(await client.agents.recompile(imported.id)).toContain('Prefers trains');
  });

  it("imports a file written by Letta's server, tool calls and results included", async () => {
    const client = lettaClient(stack);
    const { agent_ids } = await client.agents.importFile({ file: await toFile(Buffer.from(LETTA_EXPORT), 'support.af'), name: 'support', model: 'openai/gpt-4o' });
    const agent = await client.agents.retrieve(agent_ids[0]);
    expect(agent).toMatchObject({ name: 'support', model: 'openai/gpt-4o' });
    expect(agent.blocks.map((b) => b.label)).toEqual(['human', 'persona']);
    const history = (await client.agents.messages.list(agent.id, { order: 'asc' })).getPaginatedItems();
    expect(history.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message', 'tool_call_message', 'tool_return_message']);

    await client.agents.messages.create(agent.id, { input: 'letta-import-probe' });
    const prompt = JSON.parse(promptFor('letta-import-probe')) as { role: string; tool_calls?: { id: string }[]; tool_call_id?: string }[];
    expect(prompt.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'assistant', 'tool', 'user', ...prompt.slice(6).map((m) => m.role)]);
    expect(prompt[3].tool_calls?.[0].id).toBe(prompt[4].tool_call_id);

    const scrubbed = (await client.agents.exportFile(agent.id, { scrub_messages: true })) as unknown as ExportedFile;
    expect(scrubbed.agents[0].messages).toEqual([]);
  });

  it('imports the agents of one file with the blocks they list in common shared between them', async () => {
    const client = lettaClient(stack);
    const file = JSON.parse(LETTA_EXPORT) as { agents: { id: string; name: string; block_ids: string[]; messages: unknown[]; in_context_message_ids: string[] }[]; blocks: { id: string; label: string }[] };
    const human = file.blocks.find((block) => block.label === 'human')!;
    file.agents.push({ ...file.agents[0], id: 'agent-second', name: 'helper', block_ids: [human.id], messages: [], in_context_message_ids: [] });
    const { agent_ids } = await client.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(file)), 'team.af') });
    const [first, second] = await Promise.all(agent_ids.map((id) => client.agents.retrieve(id)));
    expect(second.blocks.map((block) => block.label)).toEqual(['human']);
    expect(second.blocks[0].id).toBe(first.blocks.find((block) => block.label === 'human')!.id);

    await client.agents.blocks.update('human', { agent_id: second.id, value: 'Shared after import' });
    expect((await client.agents.blocks.retrieve('human', { agent_id: first.id })).value).toBe('Shared after import');
  });

  it('refuses broken files and tools it cannot run, leaving nothing behind', async () => {
    const client = lettaClient(stack);
    const before = await agentCount();
    await expect(client.agents.importFile({ file: await toFile(Buffer.from('{not json'), 'bad.af') })).rejects.toMatchObject({
      status: 400,
      error: { detail: 'Corrupted agent file format.' },
    });

    const withCustomTool = JSON.parse(LETTA_EXPORT) as { tools: Record<string, unknown>[]; agents: { tool_ids: string[] }[] };
    withCustomTool.tools.push({ id: 'tool-1', name: 'get_weather', tool_type: 'custom', source_type: 'python', source_code: 'def get_weather(city): ...', json_schema: null });
    withCustomTool.agents[0].tool_ids.push('tool-1');
    await expect(client.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(withCustomTool)), 'custom.af') })).rejects.toMatchObject({
      status: 400,
      error: { detail: expect.stringContaining("'get_weather' run custom code") },
    });

    const form = new FormData();
    form.set('secrets', 'not json');
    form.set('file', new Blob([LETTA_EXPORT]), 'x.af');
    const badSecrets = await fetch(`${stack.baseUrl}/v1/agents/import`, { method: 'POST', body: form });
    expect(badSecrets.status).toBe(400);
    expect(await badSecrets.json()).toEqual({ detail: 'secrets must be a valid JSON string' });
    const noFile = await fetch(`${stack.baseUrl}/v1/agents/import`, { method: 'POST', body: new FormData() });
    expect(noFile.status).toBe(422);
    expect(await agentCount()).toBe(before);

    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    await expect(client.agents.exportFile(agent.id, { use_legacy_format: true })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.agents.exportFile('agent-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });
});
