import { ConflictError, NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { getJson, lettaClient, promptMentioning } from './helpers';

describe("an agent's memory blocks and tools", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('lists, reads and updates memory blocks by label; the next model call sees the change', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [
        { label: 'human', value: 'Name unknown', limit: 100 },
        { label: 'persona', value: 'A patient tutor' },
      ],
    });
    expect((await client.agents.blocks.list(agent.id)).getPaginatedItems().map((b) => b.label)).toEqual(['human', 'persona']);
    expect(await client.agents.blocks.retrieve('human', { agent_id: agent.id })).toMatchObject({ label: 'human', value: 'Name unknown', limit: 100 });

    const updated = await client.agents.blocks.update('human', { agent_id: agent.id, value: 'Name: Priya, studies chemistry' });
    expect(updated).toMatchObject({ label: 'human', value: 'Name: Priya, studies chemistry' });
    await client.agents.messages.create(agent.id, { input: 'hi there block-probe' });
    expect(promptMentioning(stack, 'block-probe')).toContain('Name: Priya, studies chemistry');

    await expect(client.agents.blocks.update('human', { agent_id: agent.id, value: 'x'.repeat(101) })).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(client.agents.blocks.update('human', { agent_id: agent.id, label: 'persona' })).rejects.toBeInstanceOf(ConflictError);
    await expect(client.agents.blocks.retrieve('nope', { agent_id: agent.id })).rejects.toBeInstanceOf(NotFoundError);
    expect((await client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('Name: Priya, studies chemistry');
  });

  it('shares a block between agents: one edits it with a tool, the other sees it; detach and attach by id', async () => {
    const client = lettaClient(stack);
    const writer = await client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'team', value: 'Team notes:' }, { label: 'human', value: 'Ann' }] });
    const teamId = writer.blocks.find((block) => block.label === 'team')!.id!;
    const reader = await client.agents.create({ model: 'openai/gpt-4o-mini', block_ids: [teamId], memory_blocks: [{ label: 'human', value: 'Bob' }] });
    expect(reader.blocks.map((block) => [block.label, block.id === teamId])).toEqual([['team', true], ['human', false]]);

    await client.agents.messages.create(writer.id, {
      input: 'note it [fake:toolsteps=1][fake:tool=memory_insert][fake:args={"label":"team","new_str":"release on friday"}]',
    });
    await client.agents.messages.create(reader.id, { input: 'what is planned? shared-probe-1' });
    expect(promptMentioning(stack, 'shared-probe-1')).toContain('release on friday');
    expect((await client.agents.blocks.retrieve('team', { agent_id: reader.id })).value).toContain('release on friday');

    const detached = await client.agents.blocks.detach(teamId, { agent_id: reader.id });
    expect(detached.blocks.map((block) => block.label)).toEqual(['human']);
    await client.agents.messages.create(reader.id, { input: 'and now? shared-probe-2' });
    expect(promptMentioning(stack, 'shared-probe-2')).not.toContain('release on friday');
    // Still the writer's, and attachable again by id.
    expect((await client.agents.blocks.list(writer.id)).getPaginatedItems().map((block) => block.label)).toEqual(['team', 'human']);
    const reattached = await client.agents.blocks.attach(teamId, { agent_id: reader.id });
    expect(reattached.blocks.map((block) => block.label)).toEqual(['human', 'team']);

    const writersHumanId = writer.blocks.find((block) => block.label === 'human')!.id!;
    await expect(client.agents.blocks.attach(writersHumanId, { agent_id: reader.id })).rejects.toBeInstanceOf(ConflictError);
    await expect(client.agents.blocks.detach(writersHumanId, { agent_id: reader.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.agents.blocks.attach('block-00000000-0000-4000-8000-000000000000', { agent_id: reader.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.agents.blocks.attach('not-a-block', { agent_id: reader.id })).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(client.agents.create({ model: 'openai/gpt-4o-mini', block_ids: ['block-00000000-0000-4000-8000-000000000000'] })).rejects.toBeInstanceOf(NotFoundError);

    // An update with block_ids sets the whole list.
    const readersHumanId = reattached.blocks.find((block) => block.label === 'human')!.id!;
    const replaced = await client.agents.update(reader.id, { block_ids: [teamId] });
    expect(replaced.blocks.map((block) => block.id)).toEqual([teamId]);
    await client.agents.update(reader.id, { block_ids: [readersHumanId, teamId] });

    // Deleting the writer leaves the shared block with the reader.
    await client.agents.delete(writer.id);
    expect((await client.agents.blocks.retrieve('team', { agent_id: reader.id })).value).toContain('release on friday');
  });

  it("runs an agent's tool directly: edits land in memory and the next prompt, failures are results, missing tools 404", async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Name: Lee' }] });
    const inserted = await client.agents.tools.run('memory_insert', { agent_id: agent.id, args: { label: 'human', new_str: 'Allergic to peanuts' } });
    expect(inserted).toMatchObject({ status: 'success', stderr: [] });
    expect(inserted.agent_state?.blocks.find((block) => block.label === 'human')?.value).toContain('Allergic to peanuts');
    expect((await client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toContain('Allergic to peanuts');
    await client.agents.messages.create(agent.id, { input: 'what should I cook? run-probe' });
    expect(promptMentioning(stack, 'run-probe')).toContain('Allergic to peanuts');

    const failed = await client.agents.tools.run('memory_replace', { agent_id: agent.id, args: { label: 'human', old_str: 'not there', new_str: 'x' } });
    expect(failed.status).toBe('error');
    expect(failed.func_return).toBe("Error: old_str did not appear verbatim in memory block 'human'; nothing was replaced.");
    expect(failed.stderr).toEqual([failed.func_return]);
    expect((await client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe(inserted.agent_state?.blocks.find((block) => block.label === 'human')?.value);

    const found = await client.agents.tools.run('conversation_search', { agent_id: agent.id, args: { query: 'run-probe', roles: ['user'] } });
    expect(found.status).toBe('success');
    expect(JSON.parse(String(found.func_return))).toEqual([expect.objectContaining({ role: 'user', content: 'what should I cook? run-probe' })]);
    // A bad argument from the model is an error result, not a failed query (nor its SQL text).
    const badDate = await client.agents.tools.run('conversation_search', { agent_id: agent.id, args: { query: 'run-probe', start_date: 'last tuesday' } });
    expect(badDate).toMatchObject({ status: 'error', func_return: 'Error: start_date must be an ISO 8601 date, like 2025-01-31' });

    const search = (await client.agents.tools.list(agent.id)).getPaginatedItems().find((tool) => tool.name === 'conversation_search')!;
    await client.agents.tools.detach(search.id, { agent_id: agent.id });
    await expect(client.agents.tools.run('conversation_search', { agent_id: agent.id, args: { query: 'x' } })).rejects.toMatchObject({
      status: 404,
      error: { detail: `Tool 'conversation_search' not found or not attached to agent ${agent.id}` },
    });
    await expect(client.agents.tools.run('memory_insert', { agent_id: 'agent-00000000-0000-4000-8000-000000000000', args: {} })).rejects.toBeInstanceOf(NotFoundError);
    const badArgs = await fetch(`${stack.baseUrl}/v1/agents/${agent.id}/tools/memory_insert/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"args": "x"}' });
    expect(badArgs.status).toBeGreaterThanOrEqual(400);
    expect(badArgs.status).toBeLessThan(500);
    expect(((await badArgs.json()) as { detail: string }).detail).toMatch(/args/);
  });

  it('lists, detaches and attaches tools; the model is offered exactly the attached ones', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const tools = (await client.agents.tools.list(agent.id)).getPaginatedItems();
    expect(tools.map((t) => t.name).sort()).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
    const search = tools.find((t) => t.name === 'conversation_search')!;

    const detached = await client.agents.tools.detach(search.id, { agent_id: agent.id });
    expect(detached?.tools.map((t) => t.name).sort()).toEqual(['memory_insert', 'memory_replace']);
    await client.agents.messages.create(agent.id, { input: 'tools-probe-1' });
    const offered = (text: string) =>
      ((stack.model.requests.filter((r) => JSON.stringify(r.body).includes(text)).at(-1)!.body as { tools?: { function: { name: string } }[] }).tools ?? []).map((t) => t.function.name).sort();
    expect(offered('tools-probe-1')).toEqual(['memory_insert', 'memory_replace']);

    await client.agents.tools.attach(search.id, { agent_id: agent.id });
    await client.agents.messages.create(agent.id, { input: 'tools-probe-2' });
    expect(offered('tools-probe-2')).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);
    await expect(client.agents.tools.attach('tool-00000000-0000-4000-8000-000000000000', { agent_id: agent.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('takes path labels (system/active-issues) everywhere labels go, and reads and updates them by label through the client', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'system/active-issues', value: 'none' }, { label: 'human', value: 'Ann' }] });
    expect(agent.blocks.map((block) => block.label)).toEqual(['system/active-issues', 'human']);
    // The client sends the label as one path segment, its '/' as %2F.
    expect(await client.agents.blocks.retrieve('system/active-issues', { agent_id: agent.id })).toMatchObject({ value: 'none' });
    const updated = await client.agents.blocks.update('system/active-issues', { agent_id: agent.id, value: 'login fails', label: 'system/issues/open' });
    expect(updated).toMatchObject({ label: 'system/issues/open', value: 'login fails' });
    expect((await client.agents.blocks.retrieve('system/issues/open', { agent_id: agent.id })).value).toBe('login fails');
    await client.agents.messages.create(agent.id, { input: 'path-label-probe' });
    expect(promptMentioning(stack, 'path-label-probe')).toContain('<system/issues/open>');

    const block = await client.blocks.create({ label: 'reference/faq', value: 'Q: hours? A: 9-5' });
    expect(block.label).toBe('reference/faq');
    for (const label of ['/faq', 'faq/', 'a//b', 'a/../b', '..', 'a/./b', 'a\u0000b', 'tab\there', 'x'.repeat(257)]) {
      await expect(client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label, value: '' }] })).rejects.toHaveProperty('status', 422);
      await expect(client.agents.blocks.update('human', { agent_id: agent.id, label })).rejects.toHaveProperty('status', 422);
      await expect(client.blocks.update(block.id!, { label })).rejects.toHaveProperty('status', 422);
    }
  });

  it("memory create, rename and delete change the agent's blocks: its next prompt and the API show them", async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Name: Bo' }, { label: 'scratch', value: 'scratch-probe-value' }],
      tools: ['memory', 'memory_apply_patch'],
    });
    const memory = async (args: Record<string, unknown>, tool = 'memory') => {
      const response = await client.agents.messages.create(agent.id, { input: `go [fake:toolsteps=1][fake:tool=${tool}][fake:args=${JSON.stringify(args)}]` });
      return response.messages.find((message) => message.message_type === 'tool_return_message') as { tool_return: string; status: string } | undefined;
    };
    const labels = async () => (await client.agents.blocks.list(agent.id)).getPaginatedItems().map((block) => block.label);

    expect(await memory({ command: 'create', path: '/memories/notes', file_text: 'lifecycle-note-text', description: 'Things to remember' })).toMatchObject({
      status: 'success',
      tool_return: "Successfully created memory block 'notes'.",
    });
    expect(await labels()).toEqual(['human', 'scratch', 'notes']);
    expect(await client.agents.blocks.retrieve('notes', { agent_id: agent.id })).toMatchObject({ value: 'lifecycle-note-text', description: 'Things to remember' });
    await client.agents.messages.create(agent.id, { input: 'lifecycle-probe-created' });
    expect(promptMentioning(stack, 'lifecycle-probe-created')).toMatch(/<notes>[\s\S]*lifecycle-note-text/);
    expect((await memory({ command: 'create', path: '/memories/notes', file_text: 'again' }))?.tool_return).toContain("'notes' already exists");

    expect((await memory({ command: 'rename', old_path: '/memories/notes', new_path: '/memories/projects/notes' }))?.status).toBe('success');
    expect((await memory({ command: 'rename', path: '/memories/projects/notes', description: 'Project notes' }))?.status).toBe('success');
    expect(await client.agents.blocks.retrieve('projects/notes', { agent_id: agent.id })).toMatchObject({ value: 'lifecycle-note-text', description: 'Project notes' });

    const scratch = await client.agents.blocks.retrieve('scratch', { agent_id: agent.id });
    expect((await memory({ command: 'delete', path: '/memories/scratch' }))?.status).toBe('success');
    expect(await labels()).toEqual(['human', 'projects/notes']);
    // Deleting a memory path takes the block out of this agent's memory; the block itself stays (another agent may share it).
    expect(await client.blocks.retrieve(scratch.id!)).toMatchObject({ value: 'scratch-probe-value' });
    // memory_apply_patch's '*** Add Block' is the same create.
    expect((await memory({ patch: '*** Begin Patch\n*** Add Block: patched\n+from a patch\n*** End Patch' }, 'memory_apply_patch'))?.status).toBe('success');
    expect(await labels()).toEqual(['human', 'projects/notes', 'patched']);
    await client.agents.messages.create(agent.id, { input: 'lifecycle-probe-after' });
    const prompt = promptMentioning(stack, 'lifecycle-probe-after');
    expect(prompt).toContain('<projects/notes>');
    expect(prompt).toContain('from a patch');
    expect(prompt).not.toContain('scratch-probe-value');
  });

  it("runs Letta's memory tools as operations on the blocks, and send_message as the answer", async () => {
    const client = lettaClient(stack);
    const lettaTools = ['core_memory_append', 'core_memory_replace', 'memory_rethink', 'memory_finish_edits', 'memory', 'memory_apply_patch', 'send_message'];
    const agent = await client.agents.create({
      model: 'openai/gpt-4o-mini',
      memory_blocks: [{ label: 'human', value: 'Name: Ann\nLikes tea' }, { label: 'system/notes', value: 'first' }],
      tools: lettaTools.slice(0, 6),
    });
    expect(agent.tools.map((tool) => tool.name).sort()).toEqual([...lettaTools.slice(0, 6), 'conversation_search', 'memory_insert', 'memory_replace'].sort());
    const plain = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    expect(plain.tools.map((tool) => tool.name).sort()).toEqual(['conversation_search', 'memory_insert', 'memory_replace']);

    const call = async (tool: string, args: Record<string, unknown>) => {
      const response = await client.agents.messages.create(agent.id, { input: `go [fake:toolsteps=1][fake:tool=${tool}][fake:args=${JSON.stringify(args)}]` });
      const toolReturn = response.messages.find((message) => message.message_type === 'tool_return_message') as { tool_return: string; status: string } | undefined;
      return { response, toolReturn };
    };
    const value = async (label: string) => (await client.agents.blocks.retrieve(label, { agent_id: agent.id })).value;

    const appended = await call('core_memory_append', { label: 'human', content: 'tea at 4' });
    expect(appended.toolReturn?.status).toBe('success');
    expect(await value('human')).toBe('Name: Ann\nLikes tea\ntea at 4');
    const timeline = await getJson<{ entries: { type: string; label?: string; operation?: string }[] }>(stack.baseUrl, `/v1/runs/${appended.response.messages[0].run_id}/timeline`);
    expect(timeline.entries.filter((entry) => entry.type === 'memory_edit')).toEqual([expect.objectContaining({ label: 'human', operation: 'insert' })]);

    await call('core_memory_replace', { label: 'human', old_content: 'tea', new_content: 'coffee' });
    expect(await value('human')).toBe('Name: Ann\nLikes coffee\ncoffee at 4');
    await call('memory', { command: 'str_replace', path: '/memories/system/notes', old_string: 'first', new_string: 'second' });
    await call('memory', { command: 'insert', path: '/memories/system/notes', insert_text: 'third', insert_line: -1 });
    expect(await value('system/notes')).toBe('second\nthird');
    await call('memory_apply_patch', { label: 'system/notes', patch: ' second\n-third\n+3rd' });
    expect(await value('system/notes')).toBe('second\n3rd');
    expect((await call('memory', { command: 'create', path: '/memories/new', description: 'd', file_text: 'x' })).toolReturn).toMatchObject({ status: 'success' });
    expect((await call('memory', { command: 'delete', path: '/memories/new' })).toolReturn).toMatchObject({ status: 'success' });
    await call('memory_rethink', { label: 'human', new_memory: 'Ann, drinks coffee' });
    expect((await call('memory_finish_edits', {})).toolReturn).toMatchObject({ status: 'success' });
    expect(await value('human')).toBe('Ann, drinks coffee');
    await client.agents.messages.create(agent.id, { input: 'letta-tools-probe' });
    expect(promptMentioning(stack, 'letta-tools-probe')).toContain('Ann, drinks coffee');

    // send_message: attached by id; its message is the answer and the run ends with that step.
    const sendMessage = (await client.agents.tools.attach('tool-7b0f5a0e-2d1c-4c38-9a51-3f6a1d9e0b17', { agent_id: agent.id }))!.tools.find((tool) => tool.name === 'send_message');
    expect(sendMessage).toBeDefined();
    const sent = await client.agents.messages.create(agent.id, { input: 'say hi [fake:toolsteps=1][fake:tool=send_message][fake:args={"message":"Hello Ann!"}]' });
    expect(sent.messages.map((message) => message.message_type)).toEqual(['assistant_message']);
    expect(sent.messages[0]).toMatchObject({ content: 'Hello Ann!' });
    expect(sent.stop_reason).toMatchObject({ stop_reason: 'end_turn' });
    expect((await client.runs.steps.list(sent.messages[0].run_id!)).getPaginatedItems()).toHaveLength(1);
  });
});
