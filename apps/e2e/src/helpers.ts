import type { MessageSearchResponse } from '@letta-ai/letta-client/resources/messages';
import Letta from '@letta-ai/letta-client';
import { CallbackReceiver, EmbeddedPostgres, TestStack, type ReceivedCallback } from '@lrs/testing';
export { waitUntil } from '@lrs/testing';

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export function lettaClient(stack: TestStack): Letta {
  // No retries: a retried request would hide a server error from the test.
  return new Letta({ baseURL: stack.baseUrl, apiKey: null, maxRetries: 0, timeout: 20_000 });
}

/** A new API key of `organization`, made with the stack's bootstrap admin key (`BOOTSTRAP_API_KEY`). */
export async function organizationKey(stack: TestStack, bootstrapKey: string, organization: string): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/v1/admin/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bootstrapKey}` },
    body: JSON.stringify({ organization }),
  });
  return ((await response.json()) as { key: string }).key;
}

export interface RunSnapshot {
  id: string;
  status: string;
  stop_reason: string | null;
  callback_status_code: number | null;
  [key: string]: unknown;
}

/** Polls GET /v1/runs/{id} until `done` holds for the run (default: terminal status). */
export async function pollRun(
  baseUrl: string,
  runId: string,
  done: (run: RunSnapshot) => boolean = (run) => TERMINAL.has(run.status),
  timeoutMs = 30_000,
): Promise<RunSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: RunSnapshot | null = null;
  while (Date.now() < deadline) {
    const response = await fetch(`${baseUrl}/v1/runs/${runId}`);
    if (response.ok) {
      last = (await response.json()) as RunSnapshot;
      if (done(last)) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} did not reach the expected state in ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

export async function postJson(baseUrl: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function createAgent(baseUrl: string, body: Record<string, unknown> = {}): Promise<string> {
  const { status, body: agent } = await postJson(baseUrl, '/v1/agents', { name: 'e2e', model: 'openai/gpt-4o-mini', ...body });
  if (status !== 200) throw new Error(`agent create failed: ${status} ${JSON.stringify(agent)}`);
  return agent.id as string;
}

export async function sendAsync(baseUrl: string, agentId: string, body: Record<string, unknown>): Promise<string> {
  const { status, body: run } = await postJson(baseUrl, `/v1/agents/${agentId}/messages/async`, body);
  if (status !== 200) throw new Error(`send failed: ${status} ${JSON.stringify(run)}`);
  return run.id as string;
}

export async function getJson<T = unknown>(baseUrl: string, path: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}


/** The messages of the latest model call that mentions `text`, as JSON text. */
export function promptMentioning(stack: TestStack, text: string): string {
  const request = stack.model.requests.filter((r) => JSON.stringify(r.body).includes(text)).at(-1);
  if (!request) throw new Error(`no model request mentions ${text}`);
  return JSON.stringify((request.body as { messages: unknown[] }).messages);
}

export interface StackWithOwnPostgres {
  postgres: EmbeddedPostgres;
  stack: TestStack;
  receiver: CallbackReceiver;
  stop(): Promise<void>;
}

/** A stack on a Postgres server of its own (so the test may restart it), with a callback receiver. */
export async function startStackWithOwnPostgres(env: Record<string, string>): Promise<StackWithOwnPostgres> {
  const postgres = await EmbeddedPostgres.start();
  const [stack, receiver] = await Promise.all([TestStack.start({ database: postgres.database, env }), CallbackReceiver.start()]);
  return {
    postgres,
    stack,
    receiver,
    stop: async () => {
      await Promise.all([stack.stop(), receiver.stop()]);
      await postgres.stop();
    },
  };
}

interface CallbackBody {
  run_id: string;
  status: string;
}

interface HistoryMessage {
  run_id: string;
  message_type: string;
  content: string;
}

/**
 * One agent's runs, each ended once: every accepted run got callbacks with one `webhook-id` (a
 * repeated delivery keeps its id) saying completed, no callback is for a run that was not
 * accepted, and the agent's history holds one user and one assistant message per run, in the
 * order the runs were sent, with the inputs sent.
 */
export async function expectRunsEndedOnceInOrder(options: {
  baseUrl: string;
  agentId: string;
  deliveries: ReceivedCallback[];
  accepted: string[];
  inputs: Map<string, string>;
}): Promise<void> {
  const { baseUrl, agentId, deliveries, accepted, inputs } = options;
  for (const runId of accepted) {
    const ofRun = deliveries.filter((c) => (c.body as CallbackBody).run_id === runId);
    expect({ runId, ids: new Set(ofRun.map((c) => c.headers['webhook-id'])).size }).toEqual({ runId, ids: 1 });
    expect((ofRun[0].body as CallbackBody).status).toBe('completed');
  }
  expect(deliveries.every((c) => accepted.includes((c.body as CallbackBody).run_id))).toBe(true);

  const expected = accepted.flatMap((runId) => [runId, runId]);
  const history = await waitForHistory(baseUrl, agentId, expected.length);
  expect(history.map((m) => m.run_id)).toEqual(expected);
  expect(history.map((m) => m.message_type)).toEqual(accepted.flatMap(() => ['user_message', 'assistant_message']));
  expect(history.filter((m) => m.message_type === 'user_message').map((m) => m.content)).toEqual(accepted.map((runId) => inputs.get(runId)));
}

/** How many distinct runs the callbacks received at `path` are for (a retried delivery counts once). */
export function runsCalledBack(receiver: CallbackReceiver, path: string): number {
  return new Set(receiver.forPath(path).map((c) => (c.body as CallbackBody).run_id)).size;
}

/** The agent's history once it holds `count` messages (the projector catches up after restarts). */
async function waitForHistory(baseUrl: string, agentId: string, count: number): Promise<HistoryMessage[]> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const history = await getJson<HistoryMessage[]>(baseUrl, `/v1/agents/${agentId}/messages?order=asc&limit=1000`);
    if (history.length >= count || Date.now() > deadline) return history;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The text of a message search result (user, assistant and system messages carry `content`, reasoning messages `reasoning`). */
export function searchResultText(result: MessageSearchResponse[number]): unknown {
  return 'content' in result ? result.content : result.reasoning;
}
