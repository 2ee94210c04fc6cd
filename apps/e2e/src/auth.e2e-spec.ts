import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Letta, { AuthenticationError, NotFoundError } from '@letta-ai/letta-client';
import { CallbackReceiver, REPO_ROOT, TestStack } from '@lrs/testing';

const execFileAsync = promisify(execFile);

const BOOTSTRAP_KEY = 'lrs-e2e-bootstrap-admin-key-0123456789abcdef';

interface Answer {
  status: number;
  body: Record<string, unknown> & { detail?: string };
}

/**
 * API keys and organizations (README, "Authentication"): every route but health needs a key; a key
 * sees only its own organization's agents, runs, messages, blocks, conversations and streams
 * (another's is a 404, never a 403); admin routes need an admin key; a revoked key fails at once.
 */
describe('API keys and organizations', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let keyA: string;
  let keyB: string;
  let keyIdA: string;

  const call = async (key: string | null, method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : { text }) as Answer['body'] };
  };
  const client = (key: string) => new Letta({ baseURL: stack.baseUrl, apiKey: key, maxRetries: 0, timeout: 20_000 });

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([
      TestStack.start({ env: { BOOTSTRAP_API_KEY: BOOTSTRAP_KEY, ALLOWED_MODELS: 'openai/gpt-4o-mini,openai/gpt-4o', ORG_MAX_RUNS_IN_FLIGHT: '3' } }),
      CallbackReceiver.start(),
    ]);
    const a = await call(BOOTSTRAP_KEY, 'POST', '/v1/admin/api-keys', { organization: 'acme' });
    const b = await call(BOOTSTRAP_KEY, 'POST', '/v1/admin/api-keys', { organization: 'globex' });
    [keyA, keyB, keyIdA] = [a.body.key as string, b.body.key as string, a.body.id as string];
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('needs a key on every route but health, and answers 401 with a detail without one', async () => {
    expect((await call(null, 'GET', '/v1/health')).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/v1/agents'],
      ['POST', '/v1/agents'],
      ['GET', '/v1/runs'],
      ['GET', '/v1/conversations'],
      ['GET', '/v1/admin/api-keys'],
    ]) {
      const anonymous = await call(null, method, path, method === 'POST' ? {} : undefined);
      expect({ path, status: anonymous.status, detail: typeof anonymous.body.detail }).toEqual({ path, status: 401, detail: 'string' });
      expect((await call('lrs-not-a-real-key', method, path, method === 'POST' ? {} : undefined)).status).toBe(401);
    }
    await expect(client('lrs-wrong').agents.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("answers browsers' CORS preflights without a key, for Letta's ADE and localhost, and not for other origins", async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.baseUrl}/v1/agents`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-stainless-os' },
      });
    for (const origin of ['https://app.letta.com', 'http://localhost:5173']) {
      const answer = await preflight(origin);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('access-control-allow-headers')).toContain('authorization');
    }
    const foreign = await preflight('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    // The actual request still needs its key.
    const withoutKey = await fetch(`${stack.baseUrl}/v1/agents`, { headers: { origin: 'https://app.letta.com' } });
    expect(withoutKey.status).toBe(401);
    expect(withoutKey.headers.get('access-control-allow-origin')).toBe('https://app.letta.com');
  });

  it('makes keys that are shown once, lists them without secrets, and keeps administration to admin keys', async () => {
    expect(keyA).toMatch(/^lrs-[A-Za-z0-9_-]{40,}$/);
    const listed = await call(BOOTSTRAP_KEY, 'GET', '/v1/admin/api-keys');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(keyA);
    expect(listed.body).toEqual(expect.arrayContaining([expect.objectContaining({ id: keyIdA, organization: 'acme', admin: false, prefix: keyA.slice(0, 12) })]));
    for (const [method, path] of [
      ['GET', '/v1/admin/api-keys'],
      ['POST', '/v1/admin/api-keys'],
      ['DELETE', `/v1/admin/api-keys/${keyIdA}`],
    ]) {
      expect((await call(keyA, method, path, method === 'POST' ? { organization: 'acme' } : undefined)).status).toBe(403);
    }
  });

  it("runs the official client's flow with an organization key, and hides every resource from another organization (404)", async () => {
    const acme = client(keyA);
    const agent = await acme.agents.create({ model: 'openai/gpt-4o-mini', memory_blocks: [{ label: 'human', value: 'Ada' }] });
    const run = await acme.agents.messages.createAsync(agent.id, { input: 'hello from acme', callback_url: receiver.url('/acme') });
    await receiver.waitFor(() => receiver.forPath('/acme').length === 1, 20_000);
    expect((await acme.runs.retrieve(run.id!)).status).toBe('completed');
    const conversation = await call(keyA, 'POST', `/v1/conversations?agent_id=${agent.id}`, {});
    const blocks = await call(keyA, 'GET', `/v1/agents/${agent.id}/core-memory/blocks`);
    const blockId = (blocks.body as unknown as { id: string }[])[0].id;

    // Globex sees none of it, by id or in lists.
    const globex = client(keyB);
    await expect(globex.agents.retrieve(agent.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(globex.runs.retrieve(run.id!)).rejects.toBeInstanceOf(NotFoundError);
    const own = await call(keyB, 'POST', '/v1/agents', { model: 'openai/gpt-4o-mini' });
    const ownAgent = own.body.id as string;
    const hidden: [string, string, unknown?][] = [
      ['GET', `/v1/agents/${agent.id}`],
      ['PATCH', `/v1/agents/${agent.id}`, { name: 'stolen' }],
      ['DELETE', `/v1/agents/${agent.id}`],
      ['GET', `/v1/agents/${agent.id}/messages`],
      ['POST', `/v1/agents/${agent.id}/messages`, { input: 'x' }],
      ['POST', `/v1/agents/${agent.id}/messages/async`, { input: 'x' }],
      ['POST', `/v1/agents/${agent.id}/messages/stream`, { input: 'x' }],
      ['POST', `/v1/agents/${agent.id}/messages/cancel`, {}],
      ['GET', `/v1/agents/${agent.id}/context`],
      ['GET', `/v1/agents/${agent.id}/export`],
      ['POST', `/v1/agents/${agent.id}/recompile`, {}],
      ['PATCH', `/v1/agents/${agent.id}/reset-messages`, {}],
      ['POST', `/v1/agents/${agent.id}/summarize`, {}],
      ['GET', `/v1/agents/${agent.id}/core-memory/blocks`],
      ['GET', `/v1/agents/${agent.id}/core-memory/blocks/human`],
      ['PATCH', `/v1/agents/${agent.id}/core-memory/blocks/human`, { value: 'x' }],
      ['PATCH', `/v1/agents/${ownAgent}/core-memory/blocks/attach/${blockId}`, {}],
      ['GET', `/v1/agents/${agent.id}/tools`],
      ['POST', `/v1/agents/${agent.id}/tools/conversation_search/run`, { args: { query: 'hello' } }],
      ['GET', `/v1/runs/${run.id}`],
      ['GET', `/v1/runs/${run.id}/messages`],
      ['GET', `/v1/runs/${run.id}/steps`],
      ['GET', `/v1/runs/${run.id}/usage`],
      ['GET', `/v1/runs/${run.id}/trace`],
      ['GET', `/v1/runs/${run.id}/timeline`],
      ['POST', `/v1/runs/${run.id}/stream`, {}],
      ['POST', `/v1/runs/${run.id}/cancel`, {}],
      ['DELETE', `/v1/runs/${run.id}`],
      ['GET', `/v1/conversations/${conversation.body.id}`],
      ['PATCH', `/v1/conversations/${conversation.body.id}`, { summary: 'x' }],
      ['GET', `/v1/conversations/${conversation.body.id}/messages`],
      ['POST', `/v1/conversations/${conversation.body.id}/messages`, { input: 'x' }],
      ['POST', `/v1/conversations/${conversation.body.id}/cancel`, {}],
      ['DELETE', `/v1/conversations/${conversation.body.id}`],
      ['POST', `/v1/conversations?agent_id=${agent.id}`, {}],
    ];
    for (const [method, path, body] of hidden) {
      const answer = await call(keyB, method, path, body);
      expect({ method, path, status: answer.status, detail: typeof answer.body.detail }).toEqual({ method, path, status: 404, detail: 'string' });
      // And as no one at all: 401, before anything is looked up.
      expect({ method, path, status: (await call(null, method, path, body)).status }).toEqual({ method, path, status: 401 });
    }
    expect((await call(keyB, 'GET', '/v1/agents')).body).toEqual([expect.objectContaining({ id: ownAgent })]);
    expect((await call(keyB, 'GET', `/v1/runs?agent_id=${agent.id}`)).body).toEqual([]);
    expect((await call(keyB, 'GET', '/v1/runs')).body).toEqual([]);
    expect((await call(keyB, 'GET', '/v1/runs?include_usage=true&created_after=2000-01-01T00:00:00Z')).body).toEqual([]);
    expect((await call(keyB, 'GET', `/v1/conversations?agent_id=${agent.id}`)).body).toEqual([]);

    // Acme's things are untouched by all that.
    const after = await acme.agents.retrieve(agent.id);
    expect(after.name).toBe(agent.name);
    expect((await acme.runs.retrieve(run.id!)).status).toBe('completed');
    expect((await call(keyA, 'GET', `/v1/agents/${agent.id}/core-memory/blocks/human`)).body).toMatchObject({ value: 'Ada' });
  });

  it("keeps archival memory to its organization: another's agent, archive and passage are 404 on every archival route", async () => {
    const acme = client(keyA);
    const agent = await acme.agents.create({ model: 'openai/gpt-4o-mini' });
    const [passage] = await acme.agents.passages.create(agent.id, { text: 'acme launch codes are in the blue binder' });
    const archive = await acme.archives.create({ name: 'acme handbook' });
    const [archived] = await acme.archives.passages.createMany(archive.id, { passages: [{ text: 'acme expenses within thirty days' }] });
    const ownAgent = (await call(keyB, 'POST', '/v1/agents', {})).body.id as string;
    const hidden: [string, string, unknown?][] = [
      ['POST', `/v1/agents/${agent.id}/archival-memory`, { text: 'planted' }],
      ['GET', `/v1/agents/${agent.id}/archival-memory`],
      ['GET', `/v1/agents/${agent.id}/archival-memory/search?query=launch`],
      ['DELETE', `/v1/agents/${agent.id}/archival-memory/${passage.id}`],
      ['DELETE', `/v1/agents/${ownAgent}/archival-memory/${passage.id}`],
      ['GET', `/v1/archives/${archive.id}`],
      ['PATCH', `/v1/archives/${archive.id}`, { name: 'stolen' }],
      ['DELETE', `/v1/archives/${archive.id}`],
      ['POST', `/v1/archives/${archive.id}/passages`, { text: 'planted' }],
      ['POST', `/v1/archives/${archive.id}/passages/batch`, { passages: [{ text: 'planted' }] }],
      ['DELETE', `/v1/archives/${archive.id}/passages/${archived.id}`],
      ['PATCH', `/v1/agents/${ownAgent}/archives/attach/${archive.id}`, {}],
      ['PATCH', `/v1/agents/${agent.id}/archives/detach/${archive.id}`, {}],
      ['POST', '/v1/passages/search', { agent_id: agent.id, query: 'launch' }],
      ['POST', '/v1/passages/search', { archive_id: archive.id }],
    ];
    for (const [method, path, body] of hidden) {
      const answer = await call(keyB, method, path, body);
      expect({ method, path, status: answer.status, detail: typeof answer.body.detail }).toEqual({ method, path, status: 404, detail: 'string' });
    }
    expect((await call(keyB, 'GET', '/v1/archives')).body).toEqual([]);
    expect((await call(keyB, 'GET', `/v1/agents/${ownAgent}/archival-memory`)).body).toEqual([]);
    // Acme's memory is as it was.
    expect((await acme.agents.passages.list(agent.id)).map((p) => p.text)).toEqual(['acme launch codes are in the blue binder']);
    expect((await acme.agents.passages.search(agent.id, { query: 'launch codes' })).count).toBe(1);
    expect((await acme.archives.retrieve(archive.id)).name).toBe('acme handbook');
  });

  it('refuses models outside ALLOWED_MODELS for agents, conversations and override_model (422)', async () => {
    expect((await call(keyA, 'POST', '/v1/agents', { model: 'openai/o1-pro' })).status).toBe(422);
    const agent = await call(keyA, 'POST', '/v1/agents', { model: 'openai/gpt-4o' });
    expect(agent.status).toBe(200);
    expect((await call(keyA, 'PATCH', `/v1/agents/${agent.body.id}`, { model: 'openai/o1-pro' })).status).toBe(422);
    const refused = await call(keyA, 'POST', `/v1/agents/${agent.body.id}/messages/async`, { input: 'x', override_model: 'openai/o1-pro' });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toContain('not allowed');
    expect((await call(keyA, 'POST', `/v1/conversations?agent_id=${agent.body.id}`, { model: 'openai/o1-pro' })).status).toBe(422);
  });

  it('caps runs in flight per organization with 429 and Retry-After, without holding up another organization', async () => {
    const [busy, other] = await Promise.all(['hooli', 'pied piper'].map(async (organization) => (await call(BOOTSTRAP_KEY, 'POST', '/v1/admin/api-keys', { organization })).body.key as string));
    const agents = await Promise.all([0, 1, 2, 3].map(async () => (await call(busy, 'POST', '/v1/agents', {})).body.id as string));
    for (const agentId of agents.slice(0, 3)) expect((await call(busy, 'POST', `/v1/agents/${agentId}/messages/async`, { input: 'slow [fake:delay=1500]' })).status).toBe(200);
    const refused = await fetch(`${stack.baseUrl}/v1/agents/${agents[3]}/messages/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${busy}` },
      body: JSON.stringify({ input: 'one too many' }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ detail: expect.stringContaining('3 runs queued or running') });
    const otherAgent = (await call(other, 'POST', '/v1/agents', {})).body.id as string;
    expect((await call(other, 'POST', `/v1/agents/${otherAgent}/messages/async`, { input: 'not held up' })).status).toBe(200);
    // Once its runs end, the organization may start more.
    const deadline = Date.now() + 20_000;
    let again = 0;
    while (again !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      again = (await call(busy, 'POST', `/v1/agents/${agents[3]}/messages/async`, { input: 'now' })).status;
    }
    expect(again).toBe(200);
  });

  it('revokes a key at once', async () => {
    expect((await call(keyA, 'GET', '/v1/agents')).status).toBe(200);
    const revoked = await call(BOOTSTRAP_KEY, 'DELETE', `/v1/admin/api-keys/${keyIdA}`);
    expect(revoked).toMatchObject({ status: 200, body: { id: keyIdA, revoked_at: expect.any(String) } });
    expect((await call(keyA, 'GET', '/v1/agents')).status).toBe(401);
    expect((await call(BOOTSTRAP_KEY, 'DELETE', `/v1/admin/api-keys/${keyIdA}`)).status).toBe(404);
    expect((await call(keyB, 'GET', '/v1/agents')).status).toBe(200);
  });

  it('npm run admin makes, lists and revokes keys for operators', async () => {
    const admin = (...args: string[]) =>
      execFileAsync(process.execPath, [join(REPO_ROOT, 'dist/tools/admin/src/main.js'), ...args], { env: { ...process.env, DATABASE_URL: stack.database.url } });
    const created = await admin('create-key', '--organization', 'initech');
    const key = /key \(shown once\): (\S+)/.exec(created.stdout)![1];
    const id = /^(apikey-\S+)/.exec(created.stdout)![1];
    expect((await call(key, 'POST', '/v1/agents', { model: 'openai/gpt-4o-mini' })).status).toBe(200);
    const listed = (await admin('list-keys')).stdout;
    expect(listed).toContain(`${id} ${key.slice(0, 12)}… initech`);
    expect(listed).not.toContain(key);
    await admin('revoke-key', id);
    expect((await call(key, 'GET', '/v1/agents')).status).toBe(401);
  });
});
