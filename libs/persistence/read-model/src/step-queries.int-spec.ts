import { DataSource } from 'typeorm';
import { buildRunEvent, newId, type AnyRunEvent, type LettaMessage, type RunEventDataMap, type RunEventType } from '@lrs/contracts';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { createReadModelDataSource } from './data-source';
import { RunProjection, type ProjectableEvent } from './run-projection';
import { RunQueries } from './run-queries';
import { StepQueries, toStepMetrics } from './step-queries';
import { TagQueries } from './tag-queries';
import { AgentStore } from './agent-store';
import { UnknownCursor } from './pagination';
import { rebuildRunTables } from './read-model-rebuild';

const ORG = newId('org');
const OTHER_ORG = newId('org');
const T0 = Date.UTC(2026, 0, 1);
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function message(runId: string, stepId: string, content: string): LettaMessage {
  return { id: newId('message'), date: at(0), name: null, message_type: 'assistant_message', otid: null, sender_id: null, step_id: stepId, is_err: null, seq_id: null, run_id: runId, content };
}

/** A run of two steps (the first with three messages), starting `startMs` after T0, numbered as the store numbers it. */
function twoStepRun(organizationId: string, agentId: string, startMs: number, model = 'gpt-4o-mini') {
  const runId = newId('run');
  const stepIds = [newId('step'), newId('step')];
  let seq = 0;
  const next = <T extends RunEventType>(type: T, data: RunEventDataMap[T]): ProjectableEvent => ({
    event: buildRunEvent({ runId, seq: ++seq, organizationId, agentId, laneId: agentId }, type, data) as AnyRunEvent,
    streamSeq: 0,
  });
  const step = (index: number, offset: number, contents: string[]) => [
    next('StepRequested', { stepId: stepIds[index], stepIndex: index + 1, maxSteps: 50, requestedAt: at(startMs + offset) }),
    next('StepCompleted', {
      stepId: stepIds[index], stepIndex: index + 1, maxSteps: 50, model, modelHandle: `openai/${model}`,
      messages: contents.map((content) => message(runId, stepIds[index], content)),
      usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 }, continueLoop: index === 0, stopReason: null,
      firstTokenAtMs: T0 + startMs + offset + 7.5, llmRequestStartedAtMs: T0 + startMs + offset + 2, completedAt: at(startMs + offset + 20),
    }),
  ];
  const events = [
    next('RunCreated', {
      conversationId: null, background: true, createdAt: at(startMs), maxSteps: 50, callbackUrl: null, overrideModel: null, clientTools: [],
      includeReturnMessageTypes: null, metadata: {}, input: [],
      requestConfig: { use_assistant_message: true, assistant_message_tool_name: 'send_message', assistant_message_tool_kwarg: 'message', include_return_message_types: null },
    }),
    next('RunStarted', { startedAt: at(startMs + 1), maxSteps: 50 }),
    ...step(0, 2, ['one', 'two', 'three']),
    ...step(1, 30, ['done']),
    next('RunFinished', { status: 'completed', stopReason: 'end_turn', completedAt: at(startMs + 60), error: null }),
  ];
  return { runId, stepIds, events };
}

/** `GET /v1/steps`, `/v1/steps/{id}/...` and `/v1/tags` queries (step-queries.ts, tag-queries.ts) on a real Postgres. */
describe('step and tag queries on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let projection: RunProjection;
  let steps: StepQueries;
  let agentA: string;
  let agentB: string;
  let foreignAgent: string;
  let runA: ReturnType<typeof twoStepRun>;
  let runB: ReturnType<typeof twoStepRun>;
  let foreignRun: ReturnType<typeof twoStepRun>;
  let allEvents: ProjectableEvent[];

  const ids = async (filter: Partial<Parameters<StepQueries['list']>[1]> = {}, organizationId = ORG) =>
    (await steps.list(organizationId, { limit: 100, order: 'asc', ...filter })).map((step) => step.id);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    projection = new RunProjection(dataSource);
    steps = new StepQueries(dataSource);
    const agents = new AgentStore(dataSource);
    const agent = async (organizationId: string, tags: string[]) =>
      (
        await agents.create({
          organizationId, name: 'a', system: 's', agentType: 'letta_v1_agent', model: 'openai/gpt-4o-mini', embedding: null, llmConfig: {},
          memoryBlocks: [], blockIds: [], tags, description: null, metadata: null, toolRules: [], toolNames: [], extra: {},
        })
      ).id;
    agentA = await agent(ORG, ['prod', 'team_a', 'Beta']);
    agentB = await agent(ORG, ['prod', '100%', 'team-b']);
    foreignAgent = await agent(OTHER_ORG, ['secret', 'prod']);
    runA = twoStepRun(ORG, agentA, 0);
    runB = twoStepRun(ORG, agentB, 1_000, 'gpt-4o');
    foreignRun = twoStepRun(OTHER_ORG, foreignAgent, 2_000);
    allEvents = [...runA.events, ...runB.events, ...foreignRun.events].map((item, index) => ({ ...item, streamSeq: index + 1 }));
    for (const run of [runA, runB, foreignRun]) await projection.apply(allEvents.filter((item) => item.event.runId === run.runId));
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it("lists the organization's steps in creation order, filtered by agent, run, model and dates, with cursors", async () => {
    const ours = [...runA.stepIds, ...runB.stepIds];
    expect(await ids()).toEqual(ours);
    expect(await ids({ order: 'desc' })).toEqual([...ours].reverse());
    expect(await ids({}, OTHER_ORG)).toEqual(foreignRun.stepIds);
    expect(await ids({ agentId: agentB })).toEqual(runB.stepIds);
    expect(await ids({ agentId: foreignAgent })).toEqual([]);
    expect(await ids({ runId: runA.runId })).toEqual(runA.stepIds);
    expect(await ids({ model: 'gpt-4o' })).toEqual(runB.stepIds);
    expect(await ids({ model: 'openai/gpt-4o-mini' })).toEqual(runA.stepIds);
    expect(await ids({ startDate: at(500) })).toEqual(runB.stepIds);
    expect(await ids({ endDate: at(500) })).toEqual(runA.stepIds);
    // start inclusive, end exclusive
    expect(await ids({ startDate: at(2), endDate: at(30) })).toEqual([runA.stepIds[0]]);
    expect(await ids({ startDate: at(30), endDate: at(31) })).toEqual([runA.stepIds[1]]);
    expect(await ids({ after: ours[0], limit: 2 })).toEqual(ours.slice(1, 3));
    expect(await ids({ order: 'desc', after: ours[2] })).toEqual([ours[1], ours[0]]);
    expect(await ids({ before: ours[3], after: ours[0] })).toEqual(ours.slice(1, 3));
    await expect(ids({ after: foreignRun.stepIds[0] })).rejects.toBeInstanceOf(UnknownCursor);
    await expect(ids({ after: newId('step') })).rejects.toBeInstanceOf(UnknownCursor);
  });

  it("finds a step only in its own organization, in the run steps' shape", async () => {
    const step = await steps.get(ORG, runA.stepIds[0]);
    const [viaRun] = await new RunQueries(dataSource).steps((await new RunQueries(dataSource).get(ORG, runA.runId))!, { limit: 1, order: 'asc' });
    expect(step).toEqual(viaRun);
    expect(step).toMatchObject({ id: runA.stepIds[0], run_id: runA.runId, agent_id: agentA, model: 'gpt-4o-mini', model_handle: 'openai/gpt-4o-mini', status: 'success', total_tokens: 13, feedback: null, tags: [] });
    expect(await steps.get(OTHER_ORG, runA.stepIds[0])).toBeNull();
    expect(await steps.row(ORG, foreignRun.stepIds[0])).toBeNull();
  });

  it("pages a step's messages in execution order, cursors scoped to the step", async () => {
    const row = (await steps.row(ORG, runA.stepIds[0]))!;
    const contents = async (page: { after?: string; before?: string; order?: 'asc' | 'desc'; limit?: number }) =>
      (await steps.messages(row, { limit: 100, order: 'asc', ...page })).map((m) => (m as { content: string }).content);
    expect(await contents({})).toEqual(['one', 'two', 'three']);
    expect(await contents({ order: 'desc' })).toEqual(['three', 'two', 'one']);
    const all = await steps.messages(row, { limit: 100, order: 'asc' });
    expect(await contents({ after: all[0].id, limit: 1 })).toEqual(['two']);
    expect(await contents({ order: 'desc', after: all[2].id })).toEqual(['two', 'one']);
    const [otherStepMessage] = await steps.messages((await steps.row(ORG, runA.stepIds[1]))!, { limit: 1, order: 'asc' });
    await expect(contents({ after: otherStepMessage.id })).rejects.toBeInstanceOf(UnknownCursor);
  });

  it('records feedback and tags per organization, and filters by them', async () => {
    const [first, second] = runA.stepIds;
    expect(await steps.setFeedback(OTHER_ORG, first, { feedback: 'positive', tags: ['x'] })).toBeNull();
    expect(await steps.setFeedback(ORG, first, { feedback: 'positive', tags: ['good', 'checked'] })).toMatchObject({ id: first, feedback: 'positive', tags: ['good', 'checked'] });
    await steps.setFeedback(ORG, second, { feedback: 'negative', tags: ['checked'] });
    expect(await ids({ hasFeedback: true })).toEqual([first, second]);
    expect(await ids({ hasFeedback: false })).toEqual(runB.stepIds);
    expect(await ids({ feedback: 'negative' })).toEqual([second]);
    expect(await ids({ tags: ['checked'] })).toEqual([first, second]);
    expect(await ids({ tags: ['checked', 'good'] })).toEqual([first]);
    expect(await ids({ tags: ['checked'], hasFeedback: true, feedback: 'positive', agentId: agentA })).toEqual([first]);
    // Tags left out stay; null feedback clears; an empty list clears the tags.
    expect(await steps.setFeedback(ORG, second, { feedback: null })).toMatchObject({ feedback: null, tags: ['checked'] });
    expect(await steps.setFeedback(ORG, second, { feedback: 'negative', tags: [] })).toMatchObject({ feedback: 'negative', tags: [] });
    expect(await ids({ tags: ['checked'] })).toEqual([first]);
    expect(await ids({ hasFeedback: true }, OTHER_ORG)).toEqual([]);
  });

  it('keeps feedback when the projector applies (or re-applies) the step events, and through a rebuild', async () => {
    const agentC = agentA;
    const run = twoStepRun(ORG, agentC, 5_000);
    const base = allEvents.length;
    const events = run.events.map((item, index) => ({ ...item, streamSeq: base + index + 1 }));
    allEvents.push(...events);
    // Feedback given while the first step is pending, then the step completes.
    await projection.apply(events.slice(0, 3));
    await steps.setFeedback(ORG, run.stepIds[0], { feedback: 'negative', tags: ['early'] });
    await projection.apply(events.slice(3));
    expect(await steps.get(ORG, run.stepIds[0])).toMatchObject({ status: 'success', total_tokens: 13, feedback: 'negative', tags: ['early'] });
    // Redelivered StepRequested and StepCompleted change nothing.
    expect(await projection.apply(events.slice(2, 4))).toEqual(['duplicate', 'duplicate']);
    expect(await steps.get(ORG, run.stepIds[0])).toMatchObject({ feedback: 'negative', tags: ['early'] });

    const before = await steps.list(ORG, { limit: 100, order: 'asc' });
    const log = {
      lastStreamSeq: async () => allEvents.length,
      async *readAll(until: number) {
        yield* allEvents.filter((item) => item.streamSeq <= until);
      },
    };
    await rebuildRunTables(dataSource, log, 4);
    expect(await steps.list(ORG, { limit: 100, order: 'asc' })).toEqual(before);
    expect(await steps.get(ORG, run.stepIds[0])).toMatchObject({ feedback: 'negative', tags: ['early'] });
    expect(await steps.get(ORG, runA.stepIds[0])).toMatchObject({ feedback: 'positive', tags: ['good', 'checked'] });
    // Nothing of the rebuild's holding table is left behind.
    expect(await dataSource.query(`SELECT to_regclass('rebuild_step_feedback') AS t`)).toEqual([{ t: null }]);
  });

  it('gives metrics from the step row and the first token time', async () => {
    const row = (await steps.row(ORG, runB.stepIds[0]))!;
    expect(toStepMetrics(row, T0 + 1_000 + 2 + 7.5)).toEqual({
      id: row.id, organization_id: ORG, provider_id: null, run_id: runB.runId, agent_id: agentB,
      step_start_ns: (T0 + 1_002) * 1e6, llm_request_start_ns: (T0 + 1_004) * 1e6, llm_request_ns: null, tool_execution_ns: null,
      step_ns: 20e6, time_to_first_token_ns: 5.5e6, base_template_id: null, template_id: null, project_id: null,
    });
    expect(toStepMetrics({ ...row, completed_at: null, llm_request_started_at: null }, null)).toMatchObject({ step_ns: null, llm_request_start_ns: null, time_to_first_token_ns: null });
  });

  it("lists the organization's distinct agent tags by name, filtered and paged by tag", async () => {
    const tags = new TagQueries(dataSource);
    const list = (filter: Partial<Parameters<TagQueries['list']>[1]> = {}, organizationId = ORG) => tags.list(organizationId, { limit: 50, order: 'asc', ...filter });
    expect(await list()).toEqual(['100%', 'Beta', 'prod', 'team-b', 'team_a']);
    expect(await list({ order: 'desc' })).toEqual(['team_a', 'team-b', 'prod', 'Beta', '100%']);
    expect(await list({}, OTHER_ORG)).toEqual(['prod', 'secret']);
    expect(await list({ name: 'TEAM' })).toEqual(['team-b', 'team_a']);
    expect(await list({ name: '_' })).toEqual(['team_a']);
    expect(await list({ name: '%' })).toEqual(['100%']);
    expect(await list({ name: 'secret' })).toEqual([]);
    expect(await list({ after: 'Beta', limit: 2 })).toEqual(['prod', 'team-b']);
    expect(await list({ order: 'desc', after: 'prod' })).toEqual(['Beta', '100%']);
    expect(await list({ before: 'team-b', after: '100%' })).toEqual(['Beta', 'prod']);
    expect(await list({ after: 'nothing-like-it' })).toEqual(['prod', 'team-b', 'team_a']);
  });
});
