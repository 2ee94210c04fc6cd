import { CallbackReceiver, TestStack } from '@lrs/testing';
import { createAgent, getJson, pollRun, postJson, promptMentioning, sendAsync, waitUntil } from './helpers';

/**
 * Invariant 1: any service may be SIGKILLed at any point and every run still reaches exactly one
 * terminal state, with nothing doubled. A short ack_wait makes redelivery after a crash quick.
 */
describe('crash recovery', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;

  beforeAll(async () => {
    [stack, receiver] = await Promise.all([
      TestStack.start({ env: { JETSTREAM_ACK_WAIT_MS: '2000', COMPACTION_TIMEOUT_MS: '2500' } }),
      CallbackReceiver.start(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stack?.stop(), receiver?.stop()]);
  });

  it('a worker killed during the model call is replaced and the step lands exactly once', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const marker = `crash-${Date.now()}`;
    const requestsFor = () => stack.model.requests.filter((r) => JSON.stringify(r.body).includes(marker)).length;
    const runId = await sendAsync(stack.baseUrl, agentId, { input: `${marker} [fake:delay=1500]`, callback_url: receiver.url('/worker-crash') });

    await waitUntil(() => requestsFor() === 1, 10_000);
    const worker = stack.service('llm-worker');
    await worker.crash();
    worker.start();

    const run = await pollRun(stack.baseUrl, runId, undefined, 30_000);
    expect(run).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    expect(requestsFor()).toBeGreaterThanOrEqual(2);
    const messages = await getJson<{ message_type: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
    expect(messages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs/${runId}/steps`)).toHaveLength(1);
    await receiver.waitFor(() => receiver.forPath('/worker-crash').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.forPath('/worker-crash')).toHaveLength(1);
  });

  it('a worker killed while summarising: the compact call fails, the thread is unchanged, a retry works', async () => {
    const agentId = await createAgent(stack.baseUrl);
    for (const text of ['the kettle is blue', 'the door is red']) {
      expect((await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: text })).status).toBe(200);
    }
    const marker = `summary-crash-${Date.now()}`;
    const compacting = postJson(stack.baseUrl, `/v1/agents/${agentId}/summarize`, {
      compaction_settings: { mode: 'all', prompt: `${marker} [fake:delay=4000][fake:reply=never stored]` },
    });
    await waitUntil(() => stack.model.requests.some((r) => JSON.stringify(r.body).includes(marker)), 10_000);
    const worker = stack.service('llm-worker');
    await worker.crash();
    worker.start();

    const failed = await compacting;
    expect(failed.status).toBe(504);
    expect(failed.body.detail).toContain('nothing was changed');
    const history = await getJson<{ message_type: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/messages`);
    expect(history).toHaveLength(4);
    expect((await postJson(stack.baseUrl, `/v1/agents/${agentId}/messages`, { input: `after the crash ${marker}-probe` })).status).toBe(200);
    expect(promptMentioning(stack, `${marker}-probe`)).toContain('the kettle is blue');
    expect(promptMentioning(stack, `${marker}-probe`)).not.toContain('never stored');

    const retried = await postJson(stack.baseUrl, `/v1/agents/${agentId}/summarize`, { compaction_settings: { mode: 'all', prompt: '[fake:reply=Blue kettle, red door.]' } });
    expect(retried).toMatchObject({ status: 200, body: { summary: 'Blue kettle, red door.', num_messages_before: 7, num_messages_after: 2 } });
  });

  it('orchestrator and projector killed mid-burst: every run ends once, nothing doubled, one callback each', async () => {
    const agents = await Promise.all([1, 2, 3, 4].map(() => createAgent(stack.baseUrl)));
    const runIds: string[] = [];
    const sends = agents.flatMap((agentId, a) =>
      [0, 1, 2, 3, 4].map((i) => sendAsync(stack.baseUrl, agentId, { input: `burst ${a}.${i} [fake:delay=40]`, callback_url: receiver.url(`/burst`) })),
    );
    const killer = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      await stack.service('orchestrator').crash();
      stack.service('orchestrator').start();
      await new Promise((resolve) => setTimeout(resolve, 150));
      await stack.service('projector').crash();
      stack.service('projector').start();
    })();
    runIds.push(...(await Promise.all(sends)));
    await killer;

    for (const runId of runIds) {
      expect(await pollRun(stack.baseUrl, runId, undefined, 45_000)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    }
    for (const runId of runIds) {
      const messages = await getJson<{ message_type: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
      expect(messages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
      // Steps are the projector's view: the restarted projector catches up with them.
      const steps = async () => getJson<unknown[]>(stack.baseUrl, `/v1/runs/${runId}/steps`);
      const deadline = Date.now() + 30_000;
      while ((await steps()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await steps()).toHaveLength(1);
    }
    await receiver.waitFor(() => receiver.forPath('/burst').length >= runIds.length, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const perRun = new Map<string, number>();
    for (const callback of receiver.forPath('/burst')) {
      const runId = (callback.body as { run_id: string }).run_id;
      perRun.set(runId, (perRun.get(runId) ?? 0) + 1);
    }
    expect([...perRun.keys()].sort()).toEqual([...runIds].sort());
    expect([...perRun.values()].every((count) => count === 1)).toBe(true);
  });

  it('a callback-dispatcher killed while delivering still gets every callback out and recorded', async () => {
    const agentId = await createAgent(stack.baseUrl);
    receiver.respondWith('hang');
    const runId = await sendAsync(stack.baseUrl, agentId, { input: 'deliver me', callback_url: receiver.url('/dispatcher-crash') });
    await receiver.waitFor(() => receiver.forPath('/dispatcher-crash').length === 1);
    const dispatcher = stack.service('callback-dispatcher');
    await dispatcher.crash();
    dispatcher.start();
    await receiver.waitFor(() => receiver.forPath('/dispatcher-crash').length >= 2, 20_000);
    const run = await pollRun(stack.baseUrl, runId, (r) => r.callback_status_code === 200, 20_000);
    expect(run.status).toBe('completed');
  });
});
