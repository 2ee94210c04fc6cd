import { NotFoundError } from '@letta-ai/letta-client';
import { TestStack } from '@lrs/testing';
import { createAgent, getJson, lettaClient, pollRun, postJson, waitUntil } from './helpers';

interface Chunk {
  message_type: string;
  run_id?: string;
  content?: string;
}

describe('conversations', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const requestsMentioning = (text: string) => stack.model.requests.filter((r) => JSON.stringify(r.body).includes(text));

  it('creates, lists, reads and deletes conversations with the official client', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const conversation = await client.conversations.create({ agent_id: agent.id, summary: 'support chat' });
    expect(conversation.id).toMatch(/^conv-/);
    expect(conversation).toMatchObject({ agent_id: agent.id, summary: 'support chat' });
    expect((await client.conversations.retrieve(conversation.id)).id).toBe(conversation.id);
    expect((await client.conversations.list({ agent_id: agent.id })).map((c) => c.id)).toEqual([conversation.id]);
    await client.conversations.delete(conversation.id);
    await expect(client.conversations.retrieve(conversation.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await fetch(`${stack.baseUrl}/v1/conversations/conv-nope`)).status).toBe(422);
    expect((await postJson(stack.baseUrl, '/v1/conversations', {})).status).toBe(422);
  });

  it('streams messages in a conversation, keeps its history apart, and runs two conversations of one agent in parallel', async () => {
    const client = lettaClient(stack);
    const agent = await client.agents.create({ model: 'openai/gpt-4o-mini' });
    const [a, b] = await Promise.all([client.conversations.create({ agent_id: agent.id }), client.conversations.create({ agent_id: agent.id })]);

    const talk = async (conversationId: string, text: string) => {
      const chunks: Chunk[] = [];
      for await (const chunk of await client.conversations.messages.create(conversationId, { input: text })) chunks.push(chunk as Chunk);
      return chunks;
    };
    const marker = `parallel-${Date.now()}`;
    const [inA, inB] = await Promise.all([talk(a.id, `${marker} a [fake:delay=700]`), talk(b.id, `${marker} b [fake:delay=700]`)]);
    expect(inA.map((c) => c.message_type)).toEqual(['ping', 'assistant_message', 'stop_reason', 'usage_statistics']);
    expect(inB.find((c) => c.message_type === 'assistant_message')?.content).toBe(`Echo: ${marker} b`);
    // Both model calls were under way at the same time: the second arrived before the first answer (700 ms).
    const arrivals = requestsMentioning(marker).map((r) => r.receivedAtMs);
    expect(arrivals).toHaveLength(2);
    expect(Math.abs(arrivals[0] - arrivals[1])).toBeLessThan(600);

    const runA = await getJson<{ conversation_id: string }>(stack.baseUrl, `/v1/runs/${inA[0].run_id}`);
    expect(runA.conversation_id).toBe(a.id);

    await talk(a.id, 'second in a');
    const promptOfSecond = requestsMentioning('second in a')[0].body as { messages: { role: string; content: unknown }[] };
    const users = promptOfSecond.messages.filter((m) => m.role === 'user').map((m) => String(m.content));
    expect(users).toEqual([`${marker} a [fake:delay=700]`, 'second in a']);

    const history = await getJson<{ content: string }[]>(stack.baseUrl, `/v1/conversations/${a.id}/messages?order=asc`);
    expect(history.map((m) => m.content)).toEqual([`${marker} a [fake:delay=700]`, `Echo: ${marker} a`, 'second in a', 'Echo: second in a']);
    // The agent's default thread has none of it.
    expect(await getJson<unknown[]>(stack.baseUrl, `/v1/conversations/default/messages?agent_id=${agent.id}`)).toEqual([]);
  });

  it('runs one message at a time within a conversation, and cancels and resumes within it', async () => {
    const agentId = await createAgent(stack.baseUrl);
    const conversation = await postJson(stack.baseUrl, `/v1/conversations?agent_id=${agentId}`, {});
    const id = conversation.body.id as string;
    const send = (text: string) =>
      fetch(`${stack.baseUrl}/v1/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: text, include_pings: false }),
      }).then((r) => r.text());
    const first = send('first one [fake:delay=500]');
    await waitUntil(() => requestsMentioning('first one').length === 1, 10_000);
    const second = send('second one');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(requestsMentioning('second one')).toHaveLength(0);
    await Promise.all([first, second]);
    expect(requestsMentioning('second one')).toHaveLength(1);

    const slow = send('cancel me [fake:delay=3000]');
    await waitUntil(() => requestsMentioning('cancel me').length === 1, 10_000);
    const resumed = fetch(`${stack.baseUrl}/v1/conversations/${id}/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"include_pings": false}' }).then((r) =>
      r.text(),
    );
    const cancelled = await postJson(stack.baseUrl, `/v1/conversations/${id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const [runId] = Object.keys(cancelled.body);
    expect(await pollRun(stack.baseUrl, runId)).toMatchObject({ status: 'cancelled' });
    expect(await resumed).toContain('"stop_reason":"cancelled"');
    expect(await slow).toContain('data: [DONE]');
    expect((await postJson(stack.baseUrl, `/v1/conversations/${id}/stream`, {})).status).toBe(400);
    expect((await postJson(stack.baseUrl, `/v1/conversations/${id}/cancel`, {})).status).toBe(409);
  });
});
