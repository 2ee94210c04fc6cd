import { ConflictError, InternalServerError } from '@letta-ai/letta-client';
import { CallbackReceiver, TestStack } from '@lrs/testing';
import { createAgent, getJson, lettaClient, pollRun, postJson, sendAsync, waitUntil } from './helpers';

describe('synchronous messages and cancellation', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([TestStack.start({ env: { MODEL_MAX_ATTEMPTS: '2' } }), CallbackReceiver.start()]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('answers POST /v1/agents/{id}/messages with the agent\'s messages, stop reason and usage (official client)', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const response = await client.agents.messages.create(agent.id, { messages: [{ role: 'user', content: 'hi there' }] });
    expect(response.messages.map((m) => m.message_type)).toEqual(['assistant_message']);
    expect(response.messages[0]).toMatchObject({ content: 'Echo: hi there' });
    expect(response.stop_reason).toEqual({ message_type: 'stop_reason', stop_reason: 'end_turn' });
    expect(response.usage).toMatchObject({ message_type: 'usage_statistics', step_count: 1 });
    expect(response.usage.total_tokens).toBeGreaterThan(0);
    const runs = await getJson<{ status: string; metadata: { run_type: string }; background: boolean }[]>(stack.baseUrl, `/v1/runs?agent_id=${agent.id}`);
    expect(runs[0]).toMatchObject({ status: 'completed', background: false, metadata: { run_type: 'send_message' } });
  });

  it('does a client-tool round trip on the sync route through the official client', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const clientTools = [{ name: 'get_time', parameters: { type: 'object', properties: {} } }];
    const paused = await client.agents.messages.create(agent.id, {
      input: 'time? [fake:toolsteps=1][fake:tool=get_time]',
      client_tools: clientTools,
    });
    expect(paused.stop_reason.stop_reason).toBe('requires_approval');
    const request = paused.messages.at(-1) as { message_type: string; tool_call: { tool_call_id: string } };
    expect(request.message_type).toBe('approval_request_message');

    await expect(client.agents.messages.create(agent.id, { input: 'ignore that' })).rejects.toBeInstanceOf(ConflictError);

    const resumed = await client.agents.messages.create(agent.id, {
      messages: [{ type: 'approval', approvals: [{ type: 'tool', tool_call_id: request.tool_call.tool_call_id, tool_return: '12:00', status: 'success' }] }],
      client_tools: clientTools,
    });
    expect(resumed.messages.map((m) => m.message_type)).toEqual(['tool_return_message', 'assistant_message']);
    expect(resumed.stop_reason.stop_reason).toBe('end_turn');
  });

  it('answers a retried POST (same message otids) with the run the first attempt created', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const body = { messages: [{ role: 'user', content: 'only once', otid: `otid-${Date.now()}` }] };
    const [first, second] = await Promise.all([
      postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/async`, body),
      postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/async`, body),
    ]);
    expect(first.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    await pollRun(stack.baseUrl, first.body.id as string);
    const third = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/async`, body);
    expect(third.body).toMatchObject({ id: first.body.id, status: 'completed' });
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}`)).toHaveLength(1);

    const syncBody = { messages: [{ role: 'user', content: 'sync once', otid: `otid-sync-${Date.now()}` }] };
    const before = stack.model.requests.length;
    const a = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, syncBody);
    const b = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, syncBody);
    expect(b).toEqual(a);
    expect(stack.model.requests.length - before).toBe(1);
  });

  it('answers a repeated Idempotency-Key with the same run and refuses it with another body', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const send = (path: string, body: unknown, key: string) =>
      fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) });
    const key = `key-${Date.now()}`;
    const [first, second] = await Promise.all([send('/async', { input: 'pay once' }, key), send('/async', { input: 'pay once' }, key)]);
    const [a, b] = [(await first.json()) as { id: string }, (await second.json()) as { id: string }];
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(b.id).toBe(a.id);
    await pollRun(stack.baseUrl, a.id);
    expect(await (await send('/async', { input: 'pay once' }, key)).json()).toMatchObject({ id: a.id, status: 'completed' });
    // Same key, another body: refused, nothing created.
    const reused = await send('/async', { input: 'pay twice' }, key);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toEqual({ detail: expect.stringContaining('Idempotency-Key was already used with a different request') });
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}`)).toHaveLength(1);
    // The sync route gives the same answer again, without a second model call.
    const before = stack.model.requests.length;
    const syncKey = `sync-${Date.now()}`;
    const answers = [await (await send('', { input: 'answer once' }, syncKey)).json(), await (await send('', { input: 'answer once' }, syncKey)).json()];
    expect(answers[1]).toEqual(answers[0]);
    expect(stack.model.requests.length - before).toBe(1);
    // A key is printable ASCII, at most 255 characters.
    for (const bad of ['has space', 'x'.repeat(256)]) expect((await send('/async', { input: 'x' }, bad)).status).toBe(400);
    // A deleted run's id is never handed out again.
    expect((await fetch(`${stack.baseUrl}/v1/runs/${a.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await send('/async', { input: 'pay once' }, key)).status).toBe(409);
  });

  it('turns a model failure into an error status with a JSON body', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const response = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: 'fail [fake:status=503]' });
    expect(response.status).toBe(500);
    expect(response.body.error).toMatchObject({ type: 'llm_error' });
    await expect(lettaClient(stack).agents.messages.create(agentId, { input: 'fail again [fake:status=503]' })).rejects.toBeInstanceOf(InternalServerError);
  });

  it('cancels a run during a slow model call promptly, keeps finished steps, frees the agent and calls back', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const marker = `slow-${Date.now()}`;
    const runId = await sendAsync(stack.baseUrl, agentId, {
      input: `${marker} [fake:toolsteps=1][fake:tool=conversation_search][fake:args={"query":"x"}][fake:delay=400]`,
      callback_url: receiver.url('/cancelled'),
    });
    const queued = await sendAsync(stack.baseUrl, agentId, { input: 'after the cancel' });
    // Wait for the second (slow) model call: the first step has finished by then.
    await waitUntil(() => stack.model.requests.filter((r) => JSON.stringify(r.body).includes(marker)).length === 2, 10_000);
    const startedAt = Date.now();
    const cancel = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/cancel`, { run_ids: [runId] });
    expect(cancel).toEqual({ status: 200, body: { [runId]: 'cancelled' } });
    const run = await pollRun(stack.baseUrl, runId);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(run).toMatchObject({ status: 'cancelled', stop_reason: 'cancelled' });
    expect(await getJson<{ status: string }[]>(stack.baseUrl, `/v1/runs/${runId}/steps`)).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 'success' })]),
    );
    expect((await getJson<{ total_tokens: number }>(stack.baseUrl, `/v1/runs/${runId}/usage`)).total_tokens).toBeGreaterThan(0);
    expect(await pollRun(stack.baseUrl, queued)).toMatchObject({ status: 'completed' });
    await receiver.waitFor(() => receiver.forPath('/cancelled').length === 1);
    expect(receiver.forPath('/cancelled')[0].body).toMatchObject({ run_id: runId, status: 'cancelled' });

    // Cancelling a finished run changes nothing; with nothing active the agent cancel is a 409.
    expect((await postJson(stack.baseUrl, `/v1/runs/${queued}/cancel`, {})).body).toEqual({ [queued]: 'cancelled' });
    expect(await getJson<{ status: string }>(stack.baseUrl, `/v1/runs/${queued}`)).toMatchObject({ status: 'completed' });
    const nothing = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(nothing.status).toBe(409);
    expect(nothing.headers.get('x-should-retry')).toBe('false');
  });

  it('cancels a queued run before it starts', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const first = await sendAsync(stack.baseUrl, agentId, { input: 'busy [fake:delay=600]' });
    const second = await sendAsync(stack.baseUrl, agentId, { input: 'never runs' });
    const cancelled = await postJson(stack.baseUrl, `/v1/runs/${second}/cancel`, {});
    expect(cancelled.body).toEqual({ [second]: 'cancelled' });
    expect(await pollRun(stack.baseUrl, second)).toMatchObject({ status: 'cancelled' });
    expect(await pollRun(stack.baseUrl, first)).toMatchObject({ status: 'completed' });
    expect(stack.model.requests.some((r) => JSON.stringify(r.body).includes('never runs'))).toBe(false);
  });

  it('cancelling a run paused for approval denies its calls and unblocks the agent', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const paused = await sendAsync(stack.baseUrl, agentId, {
      input: 'pause [fake:toolsteps=1][fake:tool=ask_human]',
      client_tools: [{ name: 'ask_human' }],
    });
    expect(await pollRun(stack.baseUrl, paused)).toMatchObject({ stop_reason: 'requires_approval' });
    expect((await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/async`, { input: 'blocked?' })).status).toBe(409);
    const cancel = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/cancel`, {});
    expect(cancel.body).toEqual({ [paused]: 'cancelled' });
    const next = await sendAsync(stack.baseUrl, agentId, { input: 'free again' });
    expect(await pollRun(stack.baseUrl, next)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    const history = stack.model.requests.map((r) => JSON.stringify(r.body)).find((body) => body.includes('free again'))!;
    expect(history).toContain('Error: request to call tool denied. User reason: The user cancelled the request');
  });
});

describe('run deletion and agent history', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('DELETE /v1/runs/{id} removes the run, its steps and messages; 404 afterwards', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const kept = await sendAsync(stack.baseUrl, agentId, { input: 'keep me' });
    const doomed = await sendAsync(stack.baseUrl, agentId, { input: 'delete me' });
    await pollRun(stack.baseUrl, kept);
    await pollRun(stack.baseUrl, doomed);
    const response = await fetch(`${stack.baseUrl}/v1/runs/${doomed}`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect((await fetch(`${stack.baseUrl}/v1/runs/${doomed}`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/runs/${doomed}/messages`)).status).toBe(404);
    expect((await getJson<{ id: string }[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}`)).map((r) => r.id)).toEqual([kept]);
    const history = await getJson<{ content: string; run_id: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/messages?order=asc`);
    expect(history.map((m) => m.run_id)).toEqual([kept, kept]);
    expect((await fetch(`${stack.baseUrl}/v1/runs/${doomed}`, { method: 'DELETE' })).status).toBe(404);
  });

  it("never hands out a deleted run's id again: a retry with its otids is a 409", async () => {
    const agentId = await createAgent(stack.baseUrl);
    const body = { messages: [{ role: 'user', content: 'once only', otid: `otid-${Date.now()}` }] };
    const first = await sendAsync(stack.baseUrl, agentId, body);
    await pollRun(stack.baseUrl, first);
    expect((await fetch(`${stack.baseUrl}/v1/runs/${first}`, { method: 'DELETE' })).status).toBe(200);
    const retried = await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages/async`, body);
    expect(retried.status).toBe(409);
    expect(retried.body.detail).toMatch(/was deleted; send a new key or new otids/);
    expect((await fetch(`${stack.baseUrl}/v1/runs/${first}`)).status).toBe(404);
  });

  it('pages the agent history with the official client, newest first, across runs', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    for (const text of ['one', 'two', 'three']) await pollRun(stack.baseUrl, await sendAsync(stack.baseUrl, agent.id, { input: text }));
    const seen: string[] = [];
    for await (const message of client.agents.messages.list(agent.id, { limit: 2 })) seen.push(String((message as { content?: unknown }).content));
    expect(seen).toEqual(['Echo: three', 'three', 'Echo: two', 'two', 'Echo: one', 'one']);
    const onlyUser = await getJson<{ message_type: string }[]>(stack.baseUrl, `/v1/agents/${agent.id}/messages?include_return_message_types=user_message&order=asc`);
    expect(onlyUser.map((m) => m.message_type)).toEqual(['user_message', 'user_message', 'user_message']);
    expect((await fetch(`${stack.baseUrl}/v1/agents/${agent.id}/messages?after=message-00000000-0000-4000-8000-000000000000`)).status).toBe(400);
  });
});
