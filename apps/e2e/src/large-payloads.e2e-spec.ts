import { RUN_PAYLOADS_BUCKET } from '@lrs/contracts';
import { connectJetStream } from '@lrs/jetstream';
import { TestStack } from '@lrs/testing';
import { createAgent, getJson, pollRun, postJson, sendAsync } from './helpers';

/**
 * Bodies larger than a NATS message (1 MB by default) are processed, not refused: the events that
 * would carry them keep their data in the object store and a claim to it (docs/run-path.md). Over
 * REQUEST_BODY_LIMIT is a 413.
 */
describe('large payloads', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a 2.7 MB input with a 1.2 MB answer end to end: the run, its messages, history and the sync answer', async () => {
    // A window large enough for the input, so that only the message size is under test.
    const agentId = await createAgent(stack.baseUrl, { context_window_limit: 1_000_000 });
    // A long input, and a long answer in one streamed piece (the fake's reply directive), so both
    // the run's RunCreated and its StepCompleted outgrow a NATS message.
    const reply = 'Z'.repeat(1_200_000);
    const input = `big-${'lorem ipsum dolor sit amet '.repeat(58_000)}end [fake:reply=${reply}]`;
    expect(Buffer.byteLength(input)).toBeGreaterThan(2_500_000);
    const runId = await sendAsync(stack.baseUrl, agentId, { input });
    expect(await pollRun(stack.baseUrl, runId, undefined, 60_000)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
    const messages = await getJson<{ message_type: string; content: string }[]>(stack.baseUrl, `/v1/runs/${runId}/messages`);
    expect(messages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);
    expect(messages[0].content).toBe(input);
    expect(messages[1].content).toBe(reply);
    const history = await getJson<{ content: string }[]>(stack.baseUrl, `/v1/agents/${agentId}/messages?order=asc`);
    expect(history.map((m) => m.content.length)).toEqual([input.length, reply.length]);
    // The sync route folds the same events, claimed payloads included (on an agent of its own: this
    // one's thread no longer fits its window twice over).
    const other = await createAgent(stack.baseUrl, { context_window_limit: 1_000_000 });
    const sync = await postJson(stack.baseUrl, `/v1/agents/${other}/messages`, { input });
    expect(sync.status).toBe(200);
    expect((sync.body.messages as { content: string }[])[0].content).toBe(reply);

    const nats = await connectJetStream({ servers: stack.nats.url, name: 'e2e-payloads' });
    try {
      const info = await nats.jsm.streams.info(`OBJ_${RUN_PAYLOADS_BUCKET}`);
      // RunCreated and StepCompleted of both runs went through the object store.
      expect(info.state.messages).toBeGreaterThan(4);
    } finally {
      await nats.nc.drain();
    }
  });

  it('takes a multi-megabyte base64 image in a message', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const data = Buffer.alloc(3 * 1024 * 1024, 7).toString('base64');
    const runId = await sendAsync(stack.baseUrl, agentId, {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data } }] }],
    });
    expect(await pollRun(stack.baseUrl, runId, undefined, 60_000)).toMatchObject({ status: 'completed' });
    const request = stack.model.requests.filter((r) => JSON.stringify(r.body).includes('what is this?')).at(-1)!;
    expect(JSON.stringify(request.body)).toContain(`data:image/png;base64,${data.slice(0, 100)}`);
  });

  it('answers 413 past REQUEST_BODY_LIMIT, and creates nothing', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const response = await fetch(`${stack.baseUrl}/v1/agents/${agentId}/messages/async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'x'.repeat(11 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: expect.any(String) });
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/runs?agent_id=${agentId}`)).toEqual([]);
  });
});
