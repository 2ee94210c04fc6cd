import { CallbackReceiver, TestStack } from '@lrs/testing';
import { createAgent, getJson, pollRun, sendAsync } from './helpers';

interface ChatRequestBody {
  messages: { role: string; content: unknown }[];
}

describe('async run pipeline', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([
      TestStack.start({ env: { CALLBACK_TIMEOUT_MS: '1000', CALLBACK_MAX_ATTEMPTS: '3', MODEL_MAX_ATTEMPTS: '3' } }),
      CallbackReceiver.start(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('moves a run from created through running to completed', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'slow one [fake:delay=800]' });
    const running = await pollRun(stack.baseUrl, runId, (run) => run.status !== 'created');
    expect(running.status).toBe('running');
    const done = await pollRun(stack.baseUrl, runId);
    expect(done).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(done.completed_at).toEqual(expect.stringMatching(/\+00:00$/));
  });

  it('runs messages sent one after another to one agent in that order, each seeing the earlier runs', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const inputs = ['first', 'second', 'third', 'fourth'];
    // Each POST returns before the next is sent, while the runs are still queued or running.
    const runIds: string[] = [];
    for (const text of inputs) runIds.push(await sendAsync(stack.baseUrl, agentId, { input: `${text} [fake:delay=150]` }));
    const runs = [];
    for (const runId of runIds) runs.push(await pollRun(stack.baseUrl, runId));
    const byCompletion = [...runs].sort((a, b) => String(a.completed_at).localeCompare(String(b.completed_at)));
    expect(byCompletion.map((r) => r.id)).toEqual(runIds);

    const prompts = promptsMentioning(agentId);
    expect(prompts).toHaveLength(inputs.length);
    prompts.forEach((messages, index) => {
      const userTurns = messages.filter((m) => m.role === 'user').map((m) => String(m.content).split(' [')[0]);
      expect(userTurns).toEqual(inputs.slice(0, index + 1));
      expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(index);
    });
  });

  it('never overlaps runs of one agent, even for a concurrent burst', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runIds = await Promise.all([1, 2, 3, 4, 5].map((n) => sendAsync(stack.baseUrl, agentId, { input: `burst ${n} [fake:delay=100]` })));
    for (const runId of runIds) expect((await pollRun(stack.baseUrl, runId)).status).toBe('completed');
    // Whatever order the burst ran in, the k-th model call saw exactly the k-1 complete exchanges before it.
    promptsMentioning(agentId).forEach((messages, index) => {
      expect(messages.filter((m) => m.role === 'user')).toHaveLength(index + 1);
      expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(index);
    });
  });

  function promptsMentioning(agentId: string): ChatRequestBody['messages'][] {
    return stack.model.requests
      .map((request) => (request.body as ChatRequestBody).messages)
      .filter((messages) => JSON.stringify(messages).includes(agentId));
  }

  it('retries transient model errors and completes', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const before = stack.model.requests.length;
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'flaky [fake:fail=2]' });
    const run = await pollRun(stack.baseUrl, runId);
    expect(run).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(stack.model.requests.length - before).toBe(3);
    const steps = await getJson<unknown[]>(stack.baseUrl, `/v1/runs/${runId}/steps`);
    expect(steps).toHaveLength(1);
  });

  it("waits out a rate-limited provider's retry-after instead of the fixed backoff", async () => {
    const agentId = await createAgent(stack.baseUrl);
    const marker = `limited-${Date.now()}`;
    const runId = await sendAsync(stack.baseUrl, agentId, { input: `${marker} [fake:ratelimit=1] [fake:retryafter=1]` });
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    const attempts = stack.model.requests.filter((r) => JSON.stringify(r.body).includes(marker)).map((r) => r.receivedAtMs);
    expect(attempts).toHaveLength(2);
    // The stack's fixed backoff is 20 ms; the provider asked for 1 s (plus up to 10 % jitter).
    expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(990);
  });

  it('fails the step at once when the provider asks for a longer pause than MODEL_RETRY_AFTER_MAX_MS', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const marker = `throttled-${Date.now()}`;
    const runId = await sendAsync(stack.baseUrl, agentId, { input: `${marker} [fake:ratelimit=5] [fake:retryafter=3600]` });
    const run = await pollRun(stack.baseUrl, runId);
    expect(run).toMatchObject({ status: 'failed', stop_reason: 'llm_api_error' });
    expect(String((run.metadata as { error?: string }).error)).toContain('llm_rate_limit');
    expect(stack.model.requests.filter((r) => JSON.stringify(r.body).includes(marker))).toHaveLength(1);
  });

  it('fails the run with llm_api_error when the model keeps failing, and still calls back', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'broken [fake:status=500]', callback_url: receiver.url('/failed') });
    const run = await pollRun(stack.baseUrl, runId);
    expect(run).toMatchObject({ status: 'failed', stop_reason: 'llm_api_error' });
    expect(String((run.metadata as { error?: string }).error)).toContain('llm_error');
    await receiver.waitFor(() => receiver.forPath('/failed').length === 1);
    expect(receiver.forPath('/failed')[0].body).toMatchObject({ run_id: runId, status: 'failed' });
  });

  it('does not retry a model error a retry cannot fix', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const before = stack.model.requests.length;
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'bad request [fake:status=400]' });
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'failed', stop_reason: 'llm_api_error' });
    expect(stack.model.requests.length - before).toBe(1);
  });

  it('retries a failing callback receiver and records the final attempt', async () => {
    const agentId = await createAgent(stack.baseUrl);
    receiver.respondWith(500, 503);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'callback retry', callback_url: receiver.url('/retry') });
    await receiver.waitFor(() => receiver.forPath('/retry').length === 3);
    const run = await pollRun(stack.baseUrl, runId, (r) => r.callback_status_code === 200);
    expect(run.callback_error).toBeNull();
    // The same webhook id on every attempt lets receivers deduplicate.
    expect(new Set(receiver.forPath('/retry').map((c) => c.headers['webhook-id']))).toEqual(new Set([runId]));
  });

  it('never lets a hanging receiver hold up another run\'s callback', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const otherAgentId = await createAgent(stack.baseUrl);
    receiver.respondWith('hang', 'hang', 'hang');
    const hangingRun = await sendAsync(stack.baseUrl, agentId, { input: 'hang', callback_url: receiver.url('/hang') });
    await receiver.waitFor(() => receiver.forPath('/hang').length === 1);
    const promptRun = await sendAsync(stack.baseUrl, otherAgentId, { input: 'prompt', callback_url: receiver.url('/prompt') });
    await receiver.waitFor(() => receiver.forPath('/prompt').length === 1, 5_000);
    expect(receiver.forPath('/hang').length).toBeLessThan(3);

    const hung = await pollRun(stack.baseUrl, hangingRun, (r) => typeof r.callback_error === 'string' && r.callback_error.includes('timeout'), 20_000);
    expect(hung.callback_status_code).toBeNull();
    expect(hung.status).toBe('completed');
    expect((await pollRun(stack.baseUrl, promptRun, (r) => r.callback_status_code !== null)).callback_status_code).toBe(200);
  });

  it('stores image content parts and forwards them to the model as image parts', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'describe this' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
          otid: 'client-otid-1',
        },
      ],
    });
    await pollRun(stack.baseUrl, runId);
    const [user] = await getJson<{ content: unknown; otid: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
    expect(user.otid).toBe('client-otid-1');
    expect(user.content).toEqual([
      { type: 'text', text: 'describe this' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ]);
    const sent = stack.model.requests.map((r) => JSON.stringify(r.body)).find((body) => body.includes('describe this'));
    expect(sent).toContain('data:image/png;base64,iVBORw0KGgo=');
  });

  it('honours include_return_message_types on the run messages', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'filtered', include_return_message_types: ['assistant_message'] });
    await pollRun(stack.baseUrl, runId);
    const messages = await getJson<{ message_type: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
    expect(messages.map((m) => m.message_type)).toEqual(['assistant_message']);
  });

  it("turns a model's bad tool argument into an error result on the first attempt, not a retried step", async () => {
    const agentId = await createAgent(stack.baseUrl);
    const marker = `bad-date-${Date.now()}`;
    const runId = await sendAsync(stack.baseUrl, agentId, {
      input: `${marker} [fake:toolsteps=1][fake:tool=conversation_search][fake:args={"query":"x","start_date":"last tuesday"}]`,
    });
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    const messages = await getJson<{ message_type: string; status?: string; tool_return?: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
    expect(messages.find((m) => m.message_type === 'tool_return_message')).toMatchObject({
      status: 'error',
      tool_return: 'Error: start_date must be an ISO 8601 date, like 2025-01-31',
    });
    // One model call per step: the tool's error did not make the step run again.
    expect(stack.model.requests.filter((r) => JSON.stringify(r.body).includes(marker))).toHaveLength(2);
  });

  it('loops while the model calls tools: an unknown tool is an error result, not a crash', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'look it up [fake:toolsteps=2][fake:tool=lookup][fake:args={"q":"x"}]' });
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    const messages = await getJson<{ message_type: string; status?: string; tool_call_id?: string; tool_call?: { tool_call_id: string; name: string } }[]>(
      stack.baseUrl,
      `/v1/runs/${runId}/messages`,
    );
    expect(messages.map((m) => m.message_type)).toEqual([
      'user_message',
      'tool_call_message',
      'tool_return_message',
      'tool_call_message',
      'tool_return_message',
      'assistant_message',
    ]);
    expect(messages[1].tool_call?.name).toBe('lookup');
    expect(messages[2]).toMatchObject({ status: 'error', tool_call_id: messages[1].tool_call?.tool_call_id });
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs/${runId}/steps`)).toHaveLength(3);
    // The model saw its tool calls and their results on the following steps.
    const last = stack.model.requests.map((r) => r.body as ChatRequestBody).filter((b) => JSON.stringify(b).includes('look it up')).at(-1)!;
    expect(last.messages.filter((m) => m.role === 'tool')).toHaveLength(2);
  });

  it('ends a looping agent at max_steps', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'loop forever [fake:toolsteps=1000]', max_steps: 3 });
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'completed', stop_reason: 'max_steps' });
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs/${runId}/steps`)).toHaveLength(3);
    const usage = await getJson<{ total_tokens: number }>(stack.baseUrl, `/v1/runs/${runId}/usage`);
    expect(usage.total_tokens).toBeGreaterThan(0);
  });

  it('lists runs by agent, status and active with order-relative cursors', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const ids: string[] = [];
    for (const text of ['a', 'b', 'c']) ids.push(await sendAsync(stack.baseUrl, agentId, { input: text }));
    for (const id of ids) await pollRun(stack.baseUrl, id);
    const newestFirst = await getJson<{ id: string }[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}`);
    expect(newestFirst.map((r) => r.id)).toEqual([...ids].reverse());
    const afterNewest = await getJson<{ id: string }[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}&after=${ids[2]}&limit=1`);
    expect(afterNewest.map((r) => r.id)).toEqual([ids[1]]);
    const ascending = await getJson<{ id: string }[]>(stack.baseUrl, `/v1/runs/?agent_id=${agentId}&order=asc&after=${ids[0]}`);
    expect(ascending.map((r) => r.id)).toEqual([ids[1], ids[2]]);
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}&active=true`)).toEqual([]);
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}&statuses=completed&statuses=failed`)).toHaveLength(3);
  });
});
