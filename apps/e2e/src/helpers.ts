import Letta from '@letta-ai/letta-client';
import { CallbackReceiver, EmbeddedPostgres, TestStack } from '@lrs/testing';

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

export function lettaClient(stack: TestStack): Letta {
  // No retries: a retried request would hide a server error from the test.
  return new Letta({ baseURL: stack.baseUrl, apiKey: null, maxRetries: 0, timeout: 20_000 });
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

export async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
