import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Letta, { NotFoundError, PermissionDeniedError, toFile } from '@letta-ai/letta-client';
import { REPO_ROOT, TestStack } from '@lrs/testing';
import { organizationKey } from './helpers';

const BOOTSTRAP_KEY = 'lrs-e2e-bootstrap-admin-key-mcp-0123456789abcdef';
/** The reference MCP server, from npm, over streamable HTTP or stdio. */
const EVERYTHING = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const TOKEN = 'mcp-token-never-shown-5d1c';
const HEADER_SECRET = 'header-value-never-shown-9e2b';

const directives = (tool: string, args: Record<string, unknown>) => `[fake:toolsteps=1][fake:tool=${tool}][fake:args=${JSON.stringify(args)}]`;

interface RunMessage {
  message_type: string;
  status?: string;
  tool_return?: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** server-everything over streamable HTTP on loopback; ready once it says it listens. */
async function startEverything(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error('server-everything did not start')), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => fail(new Error(`server-everything exited with ${code}`)));
  });
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGKILL');
  await exited;
}

/**
 * MCP servers (README, "MCP servers") through the official client: a real server from npm over
 * streamable HTTP and stdio, its tools run directly and by an agent, a server that goes away and
 * comes back, the operator's rules (stdio allowlist, private addresses), and organizations.
 */
describe('MCP servers', () => {
  let stack: TestStack;
  /** Gateway only, private networks not allowed: where a loopback server is refused. */
  let strict: TestStack;
  let everything: ChildProcess;
  let port: number;
  let acme: Letta;
  let globex: Letta;
  let acmeKey: string;

  const url = () => `http://127.0.0.1:${port}/mcp`;

  beforeAll(async () => {
    port = await freePort();
    [everything, stack, strict] = await Promise.all([
      startEverything(port),
      TestStack.start({
        env: { BOOTSTRAP_API_KEY: BOOTSTRAP_KEY, MCP_ALLOW_PRIVATE_NETWORKS: 'true', MCP_STDIO_COMMANDS: process.execPath, MCP_CONNECT_TIMEOUT_MS: '20000', MCP_CALL_TIMEOUT_MS: '5000' },
      }),
      TestStack.start({ services: ['gateway'] }),
    ]);
    acmeKey = await organizationKey(stack, BOOTSTRAP_KEY, 'acme');
    acme = new Letta({ baseURL: stack.baseUrl, apiKey: acmeKey, maxRetries: 0, timeout: 30_000 });
    globex = new Letta({ baseURL: stack.baseUrl, apiKey: await organizationKey(stack, BOOTSTRAP_KEY, 'globex'), maxRetries: 0, timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await stopProcess(everything);
    await Promise.all([stack?.stop(), strict?.stop()]);
  });

  /** One async run in which the model calls `tool`: the run must complete, its tool return is answered. */
  async function callInRun(agentId: string, tool: string, args: Record<string, unknown>): Promise<RunMessage> {
    const run = await acme.agents.messages.createAsync(agentId, { input: `go ${directives(tool, args)}` });
    const deadline = Date.now() + 60_000;
    let status = '';
    while (Date.now() < deadline) {
      status = String((await acme.runs.retrieve(run.id)).status);
      if (['completed', 'failed', 'cancelled'].includes(status)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('completed');
    const messages = (await (await fetch(`${stack.baseUrl}/v1/runs/${run.id}/messages`, { headers: { authorization: `Bearer ${acmeKey}` } })).json()) as RunMessage[];
    const returned = messages.find((message) => message.message_type === 'tool_return_message');
    if (!returned) throw new Error(`no tool return in ${JSON.stringify(messages)}`);
    return returned;
  }

  it('registers a streamable HTTP server, masks its secrets, lists its tools as Letta tools and runs one directly', async () => {
    const server = await acme.mcpServers.create({
      server_name: 'everything',
      config: { mcp_server_type: 'streamable_http', server_url: url(), auth_token: TOKEN, custom_headers: { 'X-Probe': HEADER_SECRET } },
    });
    expect(server).toMatchObject({ server_name: 'everything', mcp_server_type: 'streamable_http', server_url: url(), auth_token: '********', custom_headers: { 'X-Probe': '********' } });
    expect(server.id).toMatch(/^mcp_server-/);
    expect(await acme.mcpServers.list()).toEqual([server]);
    expect(await acme.mcpServers.retrieve(server.id!)).toEqual(server);

    const tools = await acme.mcpServers.tools.list(server.id!);
    const echo = tools.find((tool) => tool.name === 'echo')!;
    expect(echo).toMatchObject({ tool_type: 'external_mcp', json_schema: { name: 'echo', parameters: { type: 'object', properties: { message: expect.anything() } } }, metadata_: { mcp: { server_name: 'everything', server_id: server.id } } });
    expect(tools.map((tool) => tool.name)).toContain('get-sum');
    expect(await acme.mcpServers.tools.retrieve(echo.id, { mcp_server_id: server.id! })).toMatchObject({ id: echo.id, name: 'echo' });
    // MCP tools are tools of the organization, as Letta lists them.
    expect((await acme.tools.list({ tool_types: ['external_mcp'], limit: 100 })).items.map((tool) => tool.name)).toContain('echo');

    expect(await acme.mcpServers.tools.run(echo.id, { mcp_server_id: server.id!, args: { message: 'hello' } })).toMatchObject({ status: 'success', func_return: 'Echo: hello' });
    const sum = tools.find((tool) => tool.name === 'get-sum')!;
    expect(await acme.mcpServers.tools.run(sum.id, { mcp_server_id: server.id!, args: { a: 2, b: 3 } })).toMatchObject({ status: 'success', func_return: expect.stringContaining('5') });
    const refreshed = (await acme.mcpServers.refresh(server.id!)) as { added: string[]; updated: string[]; deleted: string[] };
    expect(refreshed).toMatchObject({ added: [], deleted: [] });
    expect(refreshed.updated).toContain('echo');

    // Neither secret is shown back nor logged by any service.
    expect(JSON.stringify(await acme.mcpServers.list())).not.toContain(TOKEN);
    expect(stack.logs.join('\n')).not.toContain(TOKEN);
    expect(stack.logs.join('\n')).not.toContain(HEADER_SECRET);
  });

  it("is called by an agent in an async run; a server that goes away is an error return and the run completes; it works again once back", async () => {
    const [server] = await acme.mcpServers.list();
    const echo = (await acme.mcpServers.tools.list(server.id!)).find((tool) => tool.name === 'echo')!;
    const agent = await acme.agents.create({ model: 'openai/gpt-4o-mini' });
    await acme.agents.tools.attach(echo.id, { agent_id: agent.id });

    expect(await callInRun(agent.id, 'echo', { message: 'from the agent' })).toMatchObject({ status: 'success', tool_return: 'Echo: from the agent' });
    const lastRequest = stack.model.requests[stack.model.requests.length - 1].body as { tools?: { function: { name: string } }[] };
    expect(lastRequest.tools?.map((tool) => tool.function.name)).toContain('echo');

    await stopProcess(everything);
    const down = await callInRun(agent.id, 'echo', { message: 'while down' });
    expect(down.status).toBe('error');
    expect(down.tool_return).toContain("MCP server 'everything'");

    everything = await startEverything(port);
    expect(await callInRun(agent.id, 'echo', { message: 'back' })).toMatchObject({ status: 'success', tool_return: 'Echo: back' });

    // A call that outlasts MCP_CALL_TIMEOUT_MS (5 s here) is an error return; the run completes and the server is usable after.
    const slow = (await acme.mcpServers.tools.list(server.id!)).find((tool) => tool.name === 'trigger-long-running-operation')!;
    await acme.agents.tools.attach(slow.id, { agent_id: agent.id });
    const timedOut = await callInRun(agent.id, 'trigger-long-running-operation', { duration: 30, steps: 3 });
    expect(timedOut.status).toBe('error');
    expect(timedOut.tool_return).toMatch(/timed out|within 5000 ms/i);
    expect(await callInRun(agent.id, 'echo', { message: 'after the slow one' })).toMatchObject({ status: 'success', tool_return: 'Echo: after the slow one' });
  }, 90_000);

  it('runs an allowed stdio command with a clean environment plus its own, and refuses a command outside the allowlist', async () => {
    const server = await acme.mcpServers.create({ server_name: 'local', config: { mcp_server_type: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], env: { GIVEN_TO_SERVER: 'yes-given' } } });
    expect(server).toMatchObject({ mcp_server_type: 'stdio', command: process.execPath, env: { GIVEN_TO_SERVER: '********' } });
    // The names are the streamable server's already: none of this server's tools could be stored.
    const refresh = (await acme.mcpServers.refresh(server.id!)) as { skipped: { name: string; reason: string }[] };
    expect(refresh.skipped).toContainEqual({ name: 'echo', reason: expect.stringContaining("another tool of the organization is named 'echo'") });

    // Its own tools once the clash is gone: delete the HTTP server (its tools go with it).
    const [http] = (await acme.mcpServers.list()).filter((item) => item.server_name === 'everything');
    await acme.mcpServers.delete(http.id!);
    await acme.mcpServers.refresh(server.id!);
    const env = (await acme.mcpServers.tools.list(server.id!)).find((tool) => tool.name === 'get-env')!;
    const answer = await acme.mcpServers.tools.run(env.id, { mcp_server_id: server.id!, args: {} });
    expect(answer.status).toBe('success');
    expect(String(answer.func_return)).toContain('yes-given');
    for (const serviceVariable of ['DATABASE_URL', 'NATS_URL', 'BOOTSTRAP_API_KEY', 'OPENAI_API_KEY']) expect(String(answer.func_return)).not.toContain(serviceVariable);

    const refused = await acme.mcpServers.create({ server_name: 'shell', config: { mcp_server_type: 'stdio', command: 'sh', args: ['-c', 'id'] } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect(JSON.stringify((refused as PermissionDeniedError).error)).toContain('MCP_STDIO_COMMANDS');
    expect((await acme.mcpServers.list()).map((item) => item.server_name)).toEqual(['local']);
  }, 60_000);

  it('deletes a server with its tools, which leave the agents that had them', async () => {
    const server = await acme.mcpServers.create({ server_name: 'doomed', config: { server_url: url() } });
    // A name already taken by the stdio server's tools: listed, skipped.
    await acme.mcpServers.delete((await acme.mcpServers.list()).find((item) => item.server_name === 'local')!.id!);
    await acme.mcpServers.refresh(server.id!);
    const echo = (await acme.mcpServers.tools.list(server.id!)).find((tool) => tool.name === 'echo')!;
    const agent = await acme.agents.create({ model: 'openai/gpt-4o-mini', tool_ids: [echo.id] });
    expect((await acme.agents.retrieve(agent.id)).tools.map((tool) => tool.name)).toContain('echo');
    await acme.mcpServers.delete(server.id!);
    expect((await acme.agents.retrieve(agent.id)).tools.map((tool) => tool.name)).not.toContain('echo');
    await expect(acme.tools.retrieve(echo.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(acme.mcpServers.retrieve(server.id!)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("answers 404 for another organization's server and its tools", async () => {
    const server = await acme.mcpServers.create({ server_name: 'private-to-acme', config: { server_url: url() } });
    const [tool] = await acme.mcpServers.tools.list(server.id!);
    expect(await globex.mcpServers.list()).toEqual([]);
    await expect(globex.mcpServers.retrieve(server.id!)).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.mcpServers.update(server.id!, { config: { server_url: url() } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.mcpServers.refresh(server.id!)).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.mcpServers.tools.list(server.id!)).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.mcpServers.tools.retrieve(tool.id, { mcp_server_id: server.id! })).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.mcpServers.tools.run(tool.id, { mcp_server_id: server.id!, args: {} })).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.mcpServers.delete(server.id!)).rejects.toBeInstanceOf(NotFoundError);
    expect(await acme.mcpServers.retrieve(server.id!)).toMatchObject({ server_name: 'private-to-acme' });
    await acme.mcpServers.delete(server.id!);
  });

  it("runs an agent file's MCP tool once a server of its name is registered", async () => {
    // A file as Letta writes it: an agent of this server exported, with an MCP tool added as Letta records one
    // (the server's name, and its id on the server the file came from).
    const source = await globex.agents.create({ name: 'mcp-user', model: 'openai/gpt-4o-mini' });
    const file = (await globex.agents.exportFile(source.id)) as unknown as { agents: { tool_ids: string[] }[]; tools: Record<string, unknown>[] };
    file.tools.push({
      id: 'tool-99',
      name: 'echo',
      tool_type: 'external_mcp',
      description: 'Echoes back the input.',
      source_type: 'python',
      source_code: null,
      json_schema: { name: 'echo', description: 'Echoes back the input.', parameters: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
      tags: [],
      metadata_: { mcp: { server_name: 'from-file', server_id: 'mcp_server-00000000-0000-4000-8000-00000000abcd' } },
    });
    file.agents[0].tool_ids.push('tool-99');
    const { agent_ids } = await globex.agents.importFile({ file: await toFile(Buffer.from(JSON.stringify(file)), 'mcp.af') });
    const waiting = await globex.agents.tools.run('echo', { agent_id: agent_ids[0], args: { message: 'x' } });
    expect(waiting).toMatchObject({ status: 'error', func_return: expect.stringContaining("MCP server 'from-file' is not registered") });

    const server = await globex.mcpServers.create({ server_name: 'from-file', config: { server_url: url() } });
    // The imported tool becomes the server's (same row, same agents).
    expect((await globex.mcpServers.tools.list(server.id!)).map((tool) => tool.name)).toContain('echo');
    expect(await globex.agents.tools.run('echo', { agent_id: agent_ids[0], args: { message: 'now' } })).toMatchObject({ status: 'success', func_return: 'Echo: now' });
  });

  it('refuses a loopback, private or local server address where private networks are not allowed, storing nothing', async () => {
    const client = new Letta({ baseURL: strict.baseUrl, apiKey: null, maxRetries: 0, timeout: 20_000 });
    for (const address of [url(), 'http://localhost:8080/mcp', 'http://10.0.0.7/mcp', 'http://[::1]/mcp', 'http://169.254.169.254/latest']) {
      const error = await client.mcpServers.create({ server_name: 'nope', config: { server_url: address } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(JSON.stringify((error as PermissionDeniedError).error)).toContain('MCP_ALLOW_PRIVATE_NETWORKS');
    }
    // No stdio command is allowed by default.
    await expect(client.mcpServers.create({ server_name: 'nope', config: { mcp_server_type: 'stdio', command: 'npx', args: [] } })).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(await client.mcpServers.list()).toEqual([]);
  });
});
