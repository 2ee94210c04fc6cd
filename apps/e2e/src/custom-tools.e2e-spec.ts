import { UnprocessableEntityError, ConflictError, NotFoundError } from '@letta-ai/letta-client';
import type { Letta } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { lettaClient, pollRun, waitUntil } from './helpers';

interface RunMessage {
  message_type: string;
  status?: string;
  tool_return?: string;
  stdout?: string[] | null;
  stderr?: string[] | null;
}

const directives = (tool: string, args: Record<string, unknown>) => `[fake:toolsteps=1][fake:tool=${tool}][fake:args=${JSON.stringify(args)}]`;

const ADD = `def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.

    Returns:
        The sum.
    """
    print("adding", a, b)
    return a + b
`;

const SECRET = `import os

def read_secret(name: str) -> str:
    """Read one of the agent's secrets.

    Args:
        name: The variable to read.
    """
    return os.environ.get(name, "<unset>") + "|" + os.environ.get("PATH", "<no PATH>")
`;

const FAILING = `def divide(a: float, b: float) -> float:
    """Divide a by b.

    Args:
        a (float): Dividend.
        b (float): Divisor.
    """
    return a / b
`;

const RUNAWAY = `def spin() -> str:
    """Never returns."""
    while True:
        pass
`;

const REMEMBER = `def remember(agent_state: "AgentState", fact: str) -> str:
    """Write a fact into the human block.

    Args:
        fact: What to remember.
    """
    block = agent_state.memory.get_block("human")
    agent_state.memory.update_block_value(label="human", value=block.value + "\\n" + fact)
    return "remembered"
`;

const SLOW = `import time

def slow(seconds: float) -> str:
    \"\"\"Keep the processor busy for a while.

    Args:
        seconds: How long.
    \"\"\"
    started = time.time()
    while time.time() - started < seconds:
        pass
    return "done"
`;

const SHOUT_TS = `export function shout(text: string): string {
  console.log('shouting');
  return text.toUpperCase() + '!';
}
`;

describe('custom tools from source, run in the sandbox', () => {
  let stack: TestStack;
  let client: Letta;

  beforeAll(async () => {
    // A short tool limit so the runaway test is quick; one sandbox process keeps the machine free;
    // an ack wait shorter than a slow tool's run, so only the step's keep-alive prevents a redelivery.
    stack = await TestStack.start({ env: { TOOL_TIMEOUT_MS: '4000', TOOL_SANDBOX_PROCESSES: '1', JETSTREAM_ACK_WAIT_MS: '1500' } });
    client = lettaClient(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Runs one call of `tool` in an async run and answers the run's tool return. */
  async function callInRun(agentId: string, tool: string, args: Record<string, unknown>): Promise<RunMessage> {
    const run = await client.agents.messages.createAsync(agentId, { input: `go ${directives(tool, args)}` });
    expect(await pollRun(stack.baseUrl, run.id, undefined, 60_000)).toMatchObject({ status: 'completed' });
    const messages = (await (await fetch(`${stack.baseUrl}/v1/runs/${run.id}/messages`)).json()) as RunMessage[];
    const returned = messages.find((message) => message.message_type === 'tool_return_message');
    if (!returned) throw new Error(`no tool return in ${JSON.stringify(messages)}`);
    return returned;
  }

  it("creates a Python tool from source with Letta's schema, attaches it and calls it in an async run", async () => {
    const tool = await client.tools.create({ source_code: ADD });
    expect(tool).toMatchObject({
      name: 'add',
      tool_type: 'custom',
      source_type: 'python',
      json_schema: {
        name: 'add',
        parameters: { type: 'object', properties: { a: { type: 'integer', description: 'The first number.' }, b: { type: 'integer', description: 'The second number.' } }, required: ['a', 'b'] },
      },
    });
    expect(String(tool.description)).toContain('Add two numbers.');
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    await client.agents.tools.attach(tool.id, { agent_id: agent.id });
    expect((await client.agents.retrieve(agent.id)).tools.map((t) => t.name)).toContain('add');

    const returned = await callInRun(agent.id, 'add', { a: 2, b: 3 });
    expect(returned).toMatchObject({ status: 'success', tool_return: '5', stdout: ['adding 2 3\n'] });
    // An export carries the tool's source, so an import elsewhere runs it.
    const file = (await (await fetch(`${stack.baseUrl}/v1/agents/${agent.id}/export`)).json()) as { tools: { name: string; source_code: string | null }[] };
    expect(file.tools.find((t) => t.name === 'add')?.source_code).toBe(ADD);
    const lastRequest = stack.model.requests[stack.model.requests.length - 1].body as { tools?: { function: { name: string } }[] };
    expect(lastRequest.tools?.map((t) => t.function.name)).toContain('add');
  });

  it('refuses a source it cannot describe or run, with a 422 naming the problem, and stores nothing', async () => {
    const before = (await client.tools.list({ tool_types: ['custom'], limit: 1000 })).items.length;
    for (const [source_code, problem] of [
      ['def broken(:\n  pass', 'line 1'],
      ['x = 1', 'function'],
      ['def f(a: int) -> int:\n    """Does.\n\n    Args:\n        b: Not a.\n    """\n    return a', "'a'"],
    ] as const) {
      const error = await client.tools.create({ source_code }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnprocessableEntityError);
      expect(JSON.stringify((error as UnprocessableEntityError).error)).toContain(problem);
    }
    const unbundled = await client.tools.create({ source_code: ADD.replace('def add', 'def add2'), pip_requirements: [{ name: 'numpy' }] }).catch((caught: unknown) => caught);
    expect(unbundled).toBeInstanceOf(UnprocessableEntityError);
    expect(JSON.stringify((unbundled as UnprocessableEntityError).error)).toContain("'numpy' cannot be installed");
    expect((await client.tools.list({ tool_types: ['custom'], limit: 1000 })).items.length).toBe(before);
  });

  it('turns an exception into an error return with its type and message, and stops a runaway tool with the next run fine', async () => {
    const divide = await client.tools.create({ source_code: FAILING });
    const spin = await client.tools.create({ source_code: RUNAWAY });
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [divide.id, spin.id] });
    const failed = await callInRun(agent.id, 'divide', { a: 1, b: 0 });
    expect(failed.status).toBe('error');
    expect(failed.tool_return).toMatch(/^ZeroDivisionError: /);
    expect((failed.stderr ?? []).join('')).toContain('Traceback');

    const stopped = await callInRun(agent.id, 'spin', {});
    expect(stopped.status).toBe('error');
    expect(stopped.tool_return).toMatch(/TimeoutError/);
    expect(await callInRun(agent.id, 'divide', { a: 6, b: 3 })).toMatchObject({ status: 'success', tool_return: '2.0' });
  });

  it("gives each agent its own secrets as the tool's environment, and never shows their values", async () => {
    const tool = await client.tools.create({ source_code: SECRET });
    const first = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id], secrets: { API_KEY: 'first-secret', DB_PASSWORD: 'never-shown-7f3a' } });
    const second = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id], secrets: { API_KEY: 'second-secret' } });
    expect((await callInRun(first.id, 'read_secret', { name: 'API_KEY' })).tool_return).toBe('first-secret|<no PATH>');
    expect((await callInRun(second.id, 'read_secret', { name: 'API_KEY' })).tool_return).toBe('second-secret|<no PATH>');
    const view = await client.agents.retrieve(first.id);
    expect(view.secrets?.map((secret) => secret.key)).toEqual(['API_KEY', 'DB_PASSWORD']);
    // A value the tool did not return appears nowhere: not in the agent, its export, the list, or any service's log.
    expect(JSON.stringify(view)).not.toContain('never-shown-7f3a');
    expect(JSON.stringify(await client.agents.list({ limit: 100 }))).not.toContain('never-shown-7f3a');
    expect(await (await fetch(`${stack.baseUrl}/v1/agents/${first.id}/export`)).text()).not.toContain('never-shown-7f3a');
    expect(stack.logs.join('\n')).not.toContain('never-shown-7f3a');
  });

  it("applies a tool's agent_state memory edits with its step, and runs a TypeScript tool", async () => {
    const remember = await client.tools.create({ source_code: REMEMBER });
    expect(Object.keys((remember.json_schema as { parameters: { properties: object } }).parameters.properties)).toEqual(['fact']);
    const shout = await client.tools.create({
      source_code: SHOUT_TS,
      source_type: 'typescript',
      json_schema: { name: 'shout', description: 'Shout a text.', parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
    });
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Name: Ada' }], tool_ids: [remember.id, shout.id] });
    expect(await callInRun(agent.id, 'remember', { fact: 'Likes tea' })).toMatchObject({ status: 'success', tool_return: 'remembered' });
    expect((await client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe('Name: Ada\nLikes tea');
    expect(await callInRun(agent.id, 'shout', { text: 'hello' })).toMatchObject({ status: 'success', tool_return: 'HELLO!', stdout: ['shouting\n'] });
    const direct = await client.agents.tools.run('shout', { agent_id: agent.id, args: { text: 'direct' } });
    expect(direct).toMatchObject({ status: 'success', func_return: 'DIRECT!' });
  });

  it("keeps the step's delivery alive while a tool outlasts the ack wait: the tool runs once, the model is asked twice", async () => {
    const tool = await client.tools.create({ source_code: SLOW });
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id] });
    const marker = `slow-${Date.now()}`;
    const run = await client.agents.messages.createAsync(agent.id, { input: `${marker} ${directives('slow', { seconds: 3 })}` });
    expect(await pollRun(stack.baseUrl, run.id, undefined, 60_000)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(stack.model.requests.filter((request) => JSON.stringify(request.body).includes(marker))).toHaveLength(2);
    const messages = (await (await fetch(`${stack.baseUrl}/v1/runs/${run.id}/messages`)).json()) as RunMessage[];
    expect(messages.filter((message) => message.message_type === 'tool_return_message')).toEqual([expect.objectContaining({ status: 'success', tool_return: 'done' })]);
  });

  it('a worker killed while a tool runs is replaced, and the run ends once with one tool return (the tool ran again)', async () => {
    const tool = await client.tools.create({ source_code: SLOW.replace(/\bslow\b/g, 'slow_crash') });
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id] });
    const marker = `tool-crash-${Date.now()}`;
    const asked = () => stack.model.requests.filter((request) => JSON.stringify(request.body).includes(marker)).length;
    const run = await client.agents.messages.createAsync(agent.id, { input: `${marker} ${directives('slow_crash', { seconds: 2 })}` });
    await waitUntil(() => asked() === 1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const worker = stack.service('llm-worker');
    await worker.crash();
    worker.start();
    expect(await pollRun(stack.baseUrl, run.id, undefined, 90_000)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(asked()).toBeGreaterThanOrEqual(3);
    const messages = (await (await fetch(`${stack.baseUrl}/v1/runs/${run.id}/messages`)).json()) as RunMessage[];
    expect(messages.filter((message) => message.message_type === 'tool_return_message')).toEqual([expect.objectContaining({ status: 'success', tool_return: 'done' })]);
    expect(await (await fetch(`${stack.baseUrl}/v1/runs/${run.id}/steps`)).json()).toHaveLength(2);
  });

  it('pauses for approval before a tool made with default_requires_approval, until the agent lifts it', async () => {
    const tool = await client.tools.create({ source_code: ADD.replace(/\badd\b/g, 'guarded_add'), default_requires_approval: true });
    expect(tool.default_requires_approval).toBe(true);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    await client.agents.tools.attach(tool.id, { agent_id: agent.id });
    const paused = await client.agents.messages.createAsync(agent.id, { input: `go ${directives('guarded_add', { a: 1, b: 1 })}` });
    expect(await pollRun(stack.baseUrl, paused.id, undefined, 60_000)).toMatchObject({ stop_reason: 'requires_approval' });
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agent.id}/tools/approval/guarded_add`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requires_approval: false }),
    });
    expect(response.status).toBe(200);
    const fresh = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id] });
    expect(fresh.tool_rules).toEqual([expect.objectContaining({ type: 'requires_approval', tool_name: 'guarded_add' })]);
    // The lifted agent, on a fresh thread, runs it without asking.
    const other = await client.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [tool.id] });
    await fetch(`${stack.baseUrl}/v1/agents/${other.id}/tools/approval/guarded_add`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requires_approval: false }) });
    expect(await callInRun(other.id, 'guarded_add', { a: 1, b: 1 })).toMatchObject({ status: 'success', tool_return: '2' });
  });

  it("runs Letta's built-ins: run_code in the sandbox, fetch_webpage refusing a private address, web_search saying it has no provider", async () => {
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', tools: ['run_code', 'fetch_webpage', 'web_search'], include_base_tools: false });
    const python = await client.agents.tools.run('run_code', { agent_id: agent.id, args: { language: 'python', code: 'print("hi")\n2 + 3' } });
    expect(python).toMatchObject({ status: 'success', func_return: '5', stdout: ['hi\n'] });
    const js = await client.agents.tools.run('run_code', { agent_id: agent.id, args: { language: 'js', code: '[1, 2, 3].map((n) => n * 2).join(",")' } });
    expect(js).toMatchObject({ status: 'success', func_return: '2,4,6' });
    const page = await client.agents.tools.run('fetch_webpage', { agent_id: agent.id, args: { url: `${stack.baseUrl}/v1/health` } });
    expect(page.status).toBe('error');
    expect(String(page.func_return)).toMatch(/127\.0\.0\.1/);
    const search = await client.agents.tools.run('web_search', { agent_id: agent.id, args: { query: 'x' } });
    expect(search).toMatchObject({ status: 'error', func_return: expect.stringContaining('no web search provider') });
  });

  it('upserts by name, refuses a second create of a name, and deleting a tool detaches it from its agents', async () => {
    const source = ADD.replace(/\badd\b/g, 'plus');
    const made = await client.tools.upsert({ source_code: source, tags: ['math'] });
    const again = await client.tools.upsert({ source_code: source, tags: ['arithmetic'] });
    expect(again).toMatchObject({ id: made.id, tags: ['arithmetic'] });
    await expect(client.tools.create({ source_code: source })).rejects.toBeInstanceOf(ConflictError);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini', tools: ['plus'] });
    expect((await client.tools.search({ query: 'add numbers' })).map((result) => result.tool.name)).toContain('plus');
    await client.tools.delete(made.id);
    await expect(client.tools.retrieve(made.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await client.agents.retrieve(agent.id)).tools.map((t) => t.name)).not.toContain('plus');
    const baseTool = (await client.tools.list({ name: 'memory_insert' })).items[0];
    await expect(client.tools.delete(baseTool.id)).rejects.toBeInstanceOf(UnprocessableEntityError);
  });
});
