import { ConflictError, NotFoundError, UnprocessableEntityError } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { lettaClient, promptMentioning } from './helpers';

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
});
