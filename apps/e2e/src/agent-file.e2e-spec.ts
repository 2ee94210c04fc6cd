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
/** Modeled on Letta's published agent files: path labels and sleep-time memory tools; a MemGPT agent with send_message and core_memory_*; custom and MCP tools. */
const PATH_LABELS = readFileSync(join(__dirname, 'fixtures', 'path-labels-sleeptime.af'));
const MEMGPT = readFileSync(join(__dirname, 'fixtures', 'memgpt-letta-tools.af'));

interface ImportReport {
  agent_ids: string[];
  unavailable_tools: { agent_id: string; name: string; tool_type: string; reason: string }[];
  renamed_block_labels: { agent_id: string; from: string; to: string }[];
  raised_block_limits: { agent_id: string; label: string; from: number; to: number }[];
}

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

    const withBadLabel = JSON.parse(LETTA_EXPORT) as { blocks: { label: string }[] };
    withBadLabel.blocks[0].label = 'system/../secrets';
    await expect(client.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(withBadLabel)), 'label.af') })).rejects.toMatchObject({
      status: 400,
      error: { detail: expect.stringContaining('label may contain only letters') },
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

  it("imports an agent with path labels, Letta's memory tools and a custom tool that runs, and lists the tools that answer an error", async () => {
    const client = lettaClient(stack);
    const report = (await client.agents.importFile({ file: await toFile(PATH_LABELS, 'ezra.af') })) as unknown as ImportReport;
    const [agentId] = report.agent_ids;
    const agent = await client.agents.retrieve(agentId);
    expect(agent.blocks.map((block) => block.label)).toEqual(['system/persona', 'system/active-issues', 'reference/faq', 'note_directory', 'system/references/sdk']);
    expect(report.renamed_block_labels).toEqual([
      { agent_id: agentId, from: '/note_directory', to: 'note_directory' },
      { agent_id: agentId, from: 'system//references/sdk', to: 'system/references/sdk' },
    ]);
    // Every tool of the file is on the agent: none is dropped.
    expect(agent.tools.map((tool) => tool.name).sort()).toEqual(['memory_finish_edits', 'memory_insert', 'memory_rethink', 'note', 'web_search']);
    expect(report.unavailable_tools).toEqual([
      { agent_id: agentId, name: 'web_search', tool_type: 'letta_builtin', reason: expect.stringContaining('no web search provider') },
    ]);
    // Kept on the agent too, for whoever looks at it later.
    expect(agent.metadata).toEqual({ unavailable_tools: report.unavailable_tools.map(({ agent_id: _, ...tool }) => tool) });

    await client.agents.messages.create(agentId, {
      input: 'update [fake:toolsteps=1][fake:tool=memory_rethink][fake:args={"label":"system/active-issues","new_memory":"- none open"}]',
    });
    expect((await client.agents.blocks.retrieve('system/active-issues', { agent_id: agentId })).value).toBe('- none open');
    // The file's custom Python tool runs in the sandbox; web_search answers why it cannot.
    expect(await client.agents.tools.run('note', { agent_id: agentId, args: { title: 't', content: 'c' } })).toMatchObject({ status: 'success', func_return: 'ok' });
    const search = await client.agents.tools.run('web_search', { agent_id: agentId, args: { query: 'x' } });
    expect(search).toMatchObject({ status: 'error', func_return: expect.stringContaining('no web search provider') });
  });

  it('imports a MemGPT agent whose send_message answers the user and whose core_memory tools edit its blocks', async () => {
    const client = lettaClient(stack);
    const report = (await client.agents.importFile({ file: await toFile(MEMGPT, 'memgpt.af'), append_copy_suffix: false })) as unknown as ImportReport;
    const agent = await client.agents.retrieve(report.agent_ids[0]);
    expect(agent).toMatchObject({ name: 'memgpt_support', agent_type: 'memgpt_agent' });
    expect(agent.tools.map((tool) => tool.name).sort()).toEqual([
      'check_order_status', 'conversation_search', 'core_memory_append', 'core_memory_replace', 'memory', 'memory_apply_patch', 'send_message', 'typefully_create_draft',
    ]);
    // The MCP tool's server is not registered here: it stays on the agent and answers why.
    expect(report.unavailable_tools.map((tool) => [tool.name, tool.tool_type])).toEqual([['typefully_create_draft', 'external_mcp']]);
    const mcp = await client.agents.tools.run('typefully_create_draft', { agent_id: agent.id, args: {} });
    expect(mcp).toMatchObject({ status: 'error', func_return: expect.stringContaining('MCP server') });
    // An older Letta tool (source_type "json", typing names used without an import) runs as it did there.
    expect(await client.agents.tools.run('check_order_status', { agent_id: agent.id, args: { order_number: 1234 } })).toMatchObject({ status: 'success', func_return: 'shipped' });
    // A block whose value outgrew its limit in Letta comes across whole, with the limit raised to fit.
    expect(report.raised_block_limits).toEqual([{ agent_id: agent.id, label: 'persona', from: 20, to: 49 }]);
    expect((await client.agents.blocks.retrieve('persona', { agent_id: agent.id })).limit).toBe(49);

    await client.agents.messages.create(agent.id, { input: 'x [fake:toolsteps=1][fake:tool=core_memory_append][fake:args={"label":"human","content":"Prefers email."}]' });
    await client.agents.messages.create(agent.id, { input: 'x [fake:toolsteps=1][fake:tool=core_memory_replace][fake:args={"label":"human","old_content":"pending","new_content":"shipped"}]' });
    expect((await client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('Name: Chad. Order #1234 shipped.\nPrefers email.');
    const answer = await client.agents.messages.create(agent.id, { input: 'status? [fake:toolsteps=1][fake:tool=send_message][fake:args={"message":"Your order has shipped."}]' });
    expect(answer.messages.map((message) => [message.message_type, 'content' in message ? message.content : null])).toEqual([['assistant_message', 'Your order has shipped.']]);
  });
});
