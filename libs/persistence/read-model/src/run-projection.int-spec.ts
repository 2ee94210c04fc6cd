import { DataSource } from 'typeorm';
import { buildRunEvent, newId, type AnyRunEvent, type LettaMessage, type RunEventDataMap, type RunEventType } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { RunProjection, type ProjectableEvent } from './run-projection';
import { RunQueries } from './run-queries';
import { AgentStore } from './agent-store';

const ORG = 'org-00000000-0000-4000-8000-000000000000';

function message(runId: string, type: 'user_message' | 'assistant_message', content: string, stepId: string | null = null): LettaMessage {
  return { id: newId('message'), date: '2026-01-01T00:00:00+00:00', name: null, message_type: type, otid: null, sender_id: null, step_id: stepId, is_err: null, seq_id: null, run_id: runId, content };
}

/** A complete run's event history, numbered as the store would number it. */
function runHistory(agentId: string) {
  const runId = newId('run');
  const stepId = newId('step');
  let seq = 0;
  let streamSeq = 100;
  const at = (offsetMs: number) => new Date(Date.UTC(2026, 0, 1) + offsetMs).toISOString();
  const next = <T extends RunEventType>(type: T, data: RunEventDataMap[T]): ProjectableEvent => ({
    event: buildRunEvent({ runId, seq: ++seq, organizationId: ORG, agentId, laneId: agentId }, type, data) as AnyRunEvent,
    streamSeq: ++streamSeq,
  });
  const events = [
    next('RunCreated', {
      conversationId: null, background: true, createdAt: at(0), maxSteps: 50, callbackUrl: 'http://127.0.0.1:9/cb', overrideModel: null,
      clientTools: [{ name: 'lookup' }], includeReturnMessageTypes: null, metadata: { run_type: 'send_message_async' },
      requestConfig: { use_assistant_message: true, assistant_message_tool_name: 'send_message', assistant_message_tool_kwarg: 'message', include_return_message_types: null },
      input: [message(runId, 'user_message', 'hello')],
    }),
    next('RunStarted', { startedAt: at(10), maxSteps: 50 }),
    next('StepRequested', { stepId, stepIndex: 1, maxSteps: 50, requestedAt: at(11) }),
    next('StepCompleted', {
      stepId, stepIndex: 1, maxSteps: 50, model: 'gpt-4o-mini', modelHandle: 'openai/gpt-4o-mini',
      messages: [message(runId, 'assistant_message', 'hi there', stepId)],
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 }, continueLoop: false, stopReason: null,
      firstTokenAtMs: Date.UTC(2026, 0, 1) + 35, llmRequestStartedAtMs: Date.UTC(2026, 0, 1) + 12, completedAt: at(40),
    }),
    next('RunFinished', { status: 'completed', stopReason: 'end_turn', completedAt: at(50), error: null }),
    next('CallbackAttempted', { attempt: 1, sentAt: at(60), statusCode: 200, error: null, final: true }),
  ];
  return { runId, events };
}

describe('RunProjection on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let projection: RunProjection;
  let queries: RunQueries;
  let agentId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    projection = new RunProjection(dataSource);
    queries = new RunQueries(dataSource);
    const agent = await new AgentStore(dataSource).create({
      organizationId: ORG, name: 'p', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null,
      llmConfig: {}, memoryBlocks: [], tags: [], description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
    });
    agentId = agent.id;
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const counts = async () => {
    const [row] = await dataSource.query(
      `SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM messages)::int AS messages,
              (SELECT count(*) FROM steps)::int AS steps, (SELECT count(*) FROM callback_attempts)::int AS callbacks`,
    );
    return row as { runs: number; messages: number; steps: number; callbacks: number };
  };

  it('projects a whole run, and a redelivery of every event changes nothing', async () => {
    const { runId, events } = runHistory(agentId);
    expect(await projection.apply(events)).toEqual(events.map(() => 'applied'));
    const run = await queries.get(ORG, runId);
    expect(run).toMatchObject({
      status: 'completed', stop_reason: 'end_turn', callback_status_code: 200, ttft_ns: 25_000_000, total_duration_ns: 50_000_000,
    });
    const snapshot = { counts: await counts(), run, messages: await queries.messages(run!, { limit: 100, order: 'asc' }) };
    expect(snapshot.messages.map((m) => m.message_type)).toEqual(['user_message', 'assistant_message']);

    // Redelivery: one by one and as one batch, in any order.
    for (const item of [...events].reverse()) expect(await projection.apply([item])).toEqual(['duplicate']);
    expect(await projection.apply(events)).toEqual(events.map(() => 'duplicate'));
    expect(await counts()).toEqual(snapshot.counts);
    expect(await queries.get(ORG, runId)).toEqual(snapshot.run);
    expect(await queries.messages(run!, { limit: 100, order: 'asc' })).toEqual(snapshot.messages);
  });

  it('refuses to skip ahead: an event whose predecessor is missing is a gap and changes nothing', async () => {
    const { runId, events } = runHistory(agentId);
    const before = await counts();
    expect(await projection.apply([events[2]])).toEqual(['gap']);
    expect(await queries.get(ORG, runId)).toBeNull();
    await projection.apply([events[0]]);
    expect(await projection.apply([events[3]])).toEqual(['gap']);
    expect((await counts()).steps).toBe(before.steps);
    expect(await projection.apply(events.slice(1))).toEqual(events.slice(1).map(() => 'applied'));
  });

  it('terminal is final: a later terminal event cannot change a finished run', async () => {
    const { runId, events } = runHistory(agentId);
    await projection.apply(events.slice(0, 5));
    const finished = events[4].event;
    const forged = buildRunEvent({ runId, seq: finished.seq + 1, organizationId: ORG, agentId, laneId: agentId }, 'RunFinished', {
      status: 'failed', stopReason: 'error', completedAt: new Date().toISOString(), error: 'late',
    }) as AnyRunEvent;
    await projection.apply([{ event: forged, streamSeq: 999 }]);
    expect(await queries.get(ORG, runId)).toMatchObject({ status: 'completed', stop_reason: 'end_turn' });
  });

  it('pages run messages with before/after cursors and both orders', async () => {
    const { runId, events } = runHistory(agentId);
    await projection.apply(events);
    const run = (await queries.get(ORG, runId))!;
    const all = await queries.messages(run, { limit: 100, order: 'asc' });
    expect(await queries.messages(run, { limit: 100, order: 'desc' })).toEqual([...all].reverse());
    expect(await queries.messages(run, { limit: 100, order: 'asc', after: all[0].id })).toEqual([all[1]]);
    expect(await queries.messages(run, { limit: 100, order: 'asc', before: all[1].id })).toEqual([all[0]]);
    expect(await queries.messages(run, { limit: 1, order: 'asc' })).toEqual([all[0]]);
  });
});
