import { BadRequestError, NotFoundError } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { createAgent, lettaClient, pollRun, promptMentioning, sendAsync } from './helpers';

/** Recompile, reset, fork and trace: what a thread shows the model, and what a run did. */
describe('thread context and run traces', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** The prompt of the model call whose last user message mentions `text`. */
  const promptFor = (text: string): string => promptMentioning(stack, text);

  it('recompiles the system prompt an agent and a conversation will get', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'persona', value: 'I am Sam, a tide-pool guide.' }] });
    const first = await client.agents.recompile(agent.id);
    expect(typeof first).toBe('string');
    expect(first).toContain('I am Sam, a tide-pool guide.');
    expect(first).toContain('0 previous messages');

    await client.agents.messages.create(agent.id, { input: 'hello there' });
    const after = await client.agents.recompile(agent.id, { dry_run: true });
    expect(after).toContain('2 previous messages');

    const conversation = await client.conversations.create({ agent_id: agent.id });
    const ofConversation = await client.conversations.recompile(conversation.id);
    expect(ofConversation).toContain('I am Sam, a tide-pool guide.');
    expect(ofConversation).toContain('0 previous messages');

    await expect(client.agents.recompile('agent-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('resets an agent: its history is gone, the next call starts fresh, and a busy thread answers 409', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    await client.agents.messages.create(agent.id, { input: 'remember the word heliotrope' });
    expect((await client.agents.messages.list(agent.id)).getPaginatedItems()).toHaveLength(2);

    const state = await client.agents.messages.reset(agent.id, { add_default_initial_messages: false });
    expect(state?.id).toBe(agent.id);
    expect((await client.agents.messages.list(agent.id)).getPaginatedItems()).toHaveLength(0);

    await client.agents.messages.create(agent.id, { input: 'what word? after-reset' });
    expect(promptFor('after-reset')).not.toContain('heliotrope');
    expect((await client.agents.messages.list(agent.id)).getPaginatedItems()).toHaveLength(2);

    const slow = await sendAsync(stack.baseUrl, agent.id, { input: 'slow one [fake:delay=1500]' });
    await pollRun(stack.baseUrl, slow, (run) => run.status === 'running');
    const busy = await fetch(`${stack.baseUrl}/v1/agents/${agent.id}/reset-messages`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ run_id: slow, detail: expect.stringContaining(slow) });
    await pollRun(stack.baseUrl, slow);
    await expect(client.agents.messages.reset(agent.id, {})).resolves.toBeTruthy();
  });

  it('forks a conversation whole or up to a message, sharing its context without touching the source', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const source = await client.conversations.create({ agent_id: agent.id });
    await client.conversations.messages.create(source.id, { input: 'fact one: otters hold hands', streaming: false });
    await client.conversations.messages.create(source.id, { input: 'fact two: crows remember faces', streaming: false });
    const sourceHistory = (await client.conversations.messages.list(source.id, { order: 'asc' })).getPaginatedItems();
    expect(sourceHistory).toHaveLength(4);

    const whole = await client.conversations.fork(source.id);
    expect(whole.id).not.toBe(source.id);
    expect(whole.agent_id).toBe(agent.id);
    await client.conversations.messages.create(whole.id, { input: 'in the whole fork', streaming: false });
    expect(promptFor('in the whole fork')).toContain('otters hold hands');
    expect(promptFor('in the whole fork')).toContain('crows remember faces');

    const firstAnswer = sourceHistory[1];
    const partial = await client.conversations.fork(source.id, { message_id: firstAnswer.id, hidden: true });
    await client.conversations.messages.create(partial.id, { input: 'in the partial fork', streaming: false });
    expect(promptFor('in the partial fork')).toContain('otters hold hands');
    expect(promptFor('in the partial fork')).not.toContain('crows remember faces');

    // The source is untouched; the hidden fork is left out of listings.
    await client.conversations.messages.create(source.id, { input: 'back in the source', streaming: false });
    expect(promptFor('back in the source')).not.toContain('in the whole fork');
    const listed = (await client.conversations.list({ agent_id: agent.id })).map((c) => c.id);
    expect(listed.sort()).toEqual([source.id, whole.id].sort());

    const ofDefault = await client.conversations.fork('default', { agent_id: agent.id });
    expect(ofDefault.agent_id).toBe(agent.id);
    await expect(client.conversations.fork(source.id, { message_id: 'message-00000000-0000-4000-8000-000000000000' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.conversations.fork('conv-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('forks a conversation in the middle of a run with only what its finished runs said', async () => {
    const client = lettaClient(stack);
    const agentId = await createAgent(stack.baseUrl);
    const conversation = await client.conversations.create({ agent_id: agentId });
    await client.conversations.messages.create(conversation.id, { input: 'settled fact: basalt', streaming: false });
    const running = client.conversations.messages.create(conversation.id, { input: 'unsettled [fake:delay=1000]', streaming: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fork = await client.conversations.fork(conversation.id);
    await running;
    await client.conversations.messages.create(fork.id, { input: 'what is settled? fork-probe', streaming: false });
    expect(promptFor('fork-probe')).toContain('basalt');
    expect(promptFor('fork-probe')).not.toContain('unsettled');
  });

  it('compacts an agent: the model writes the summary, the next call sees it instead of what it replaced, history keeps both', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    for (const fact of ['the boat is teal', 'the cat is sleepy']) await client.agents.messages.create(agent.id, { input: `note: ${fact}` });

    const result = await client.agents.messages.compact(agent.id, {
      compaction_settings: { mode: 'all', prompt: 'Summarize briefly. [fake:reply=They discussed a teal boat and a sleepy cat.]' },
    });
    expect(result).toEqual({ summary: 'They discussed a teal boat and a sleepy cat.', num_messages_before: 5, num_messages_after: 2 });
    expect(promptFor('Summarize briefly.')).toContain('user: note: the boat is teal');

    await client.agents.messages.create(agent.id, { input: 'what do you know? compact-probe' });
    const prompt = promptFor('compact-probe');
    expect(prompt).toContain('They discussed a teal boat and a sleepy cat.');
    expect(prompt).toContain('system_alert');
    expect(prompt).not.toContain('note: the boat is teal');
    expect(await client.agents.recompile(agent.id)).toContain('3 previous messages');

    const history = (await client.agents.messages.list(agent.id, { order: 'asc' })).getPaginatedItems() as { message_type: string; content?: unknown }[];
    expect(history.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message', 'user_message', 'assistant_message', 'user_message', 'user_message', 'assistant_message']);
    expect(JSON.parse(history[4].content as string)).toMatchObject({ type: 'system_alert', message: expect.stringContaining('They discussed a teal boat') });
  });

  it('compacts a conversation with a sliding window, keeping the newest exchange verbatim, and refuses what it cannot do', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const conversation = await client.conversations.create({ agent_id: agent.id });
    await expect(client.conversations.messages.compact(conversation.id, {})).rejects.toMatchObject({ status: 400, error: { detail: 'No in-context messages found for this conversation.' } });
    for (const n of ['one', 'two', 'three', 'four']) {
      await client.conversations.messages.create(conversation.id, { input: `exchange ${n}`, streaming: false });
    }
    const result = await client.conversations.messages.compact(conversation.id, { compaction_settings: { prompt: 'Condense. [fake:reply=Exchanges one to three happened.]' } });
    expect(result).toEqual({ summary: 'Exchanges one to three happened.', num_messages_before: 9, num_messages_after: 4 });
    await client.conversations.messages.create(conversation.id, { input: 'sliding-probe', streaming: false });
    const prompt = promptFor('sliding-probe');
    expect(prompt).toContain('Exchanges one to three happened.');
    expect(prompt).toContain('exchange four');
    expect(prompt).not.toContain('exchange two');

    // Too little to fold in, a model that fails, and the agent's own thread through `default`.
    await expect(
      client.conversations.messages.compact(conversation.id, { compaction_settings: { sliding_window_percentage: 1 } }),
    ).rejects.toMatchObject({ status: 400, error: { detail: expect.stringContaining('Summarization failed to reduce') } });
    await expect(
      client.conversations.messages.compact(conversation.id, { compaction_settings: { mode: 'all', prompt: 'x [fake:status=400]' } }),
    ).rejects.toMatchObject({ status: 502 });
    await client.agents.messages.create(agent.id, { input: 'on the default thread' });
    const ofDefault = await client.conversations.messages.compact('default', { agent_id: agent.id, compaction_settings: { mode: 'all', prompt: '[fake:reply=Default summary.]' } });
    expect(ofDefault.summary).toBe('Default summary.');
    const invalid = await fetch(`${stack.baseUrl}/v1/agents/${agent.id}/summarize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ compaction_settings: { mode: 'everything' } }),
    });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { detail: string }).detail).toContain('compaction_settings.mode');
  });

  it("returns a run's trace spans, rebuilt from its events", async () => {
    const client = lettaClient(stack);
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'trace me [fake:toolsteps=1][fake:tool=lookup]' });
    await pollRun(stack.baseUrl, runId);
    const spans = (await client.runs.trace.retrieve(runId)) as { SpanName: string; ParentSpanId: string; SpanId: string; Duration: number; TraceId: string }[];
    expect(spans.map((s) => s.SpanName)).toEqual(expect.arrayContaining(['run', 'agent_step', 'llm_request']));
    expect(spans.filter((s) => s.SpanName === 'agent_step')).toHaveLength(2);
    const root = spans[0];
    expect(spans.slice(1).every((s) => s.TraceId === root.TraceId && s.ParentSpanId !== '')).toBe(true);
    expect(root.Duration).toBeGreaterThan(0);
    expect(await client.runs.trace.retrieve(runId, { limit: 2 })).toHaveLength(2);
    await expect(client.runs.trace.retrieve('run-00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
  });
});
