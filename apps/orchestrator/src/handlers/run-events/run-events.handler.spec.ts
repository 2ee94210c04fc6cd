import { newId, type RunEvent, type RunEventDraft, type StepCompletedData } from '@lrs/contracts';
import { enqueue, type LaneState } from '@lrs/domain-run';
import { RetryLater, RunCommands, type HandlerContext, type StoredRunEvent } from '@lrs/jetstream';
import { InMemoryLaneStore, InMemoryRunEventStore, deliveryOf, sampleRunCreated } from '@lrs/testing';
import { RunEventsHandler } from './run-events.handler';

/**
 * The orchestrator's decisions on the in-memory event log and lanes (which pass the same contract
 * tests as the JetStream ones): the run-events.handler.int-spec.ts cases on JetStream prove the
 * same handler against the real thing.
 */
describe('orchestrator run-events handler (in memory)', () => {
  let events: InMemoryRunEventStore;
  let lanes: InMemoryLaneStore;
  let armed: RunEvent<'RunFinished'>[];
  let forwarded: StoredRunEvent[];
  let handler: RunEventsHandler;

  beforeEach(() => {
    events = new InMemoryRunEventStore();
    lanes = new InMemoryLaneStore();
    armed = [];
    forwarded = [];
    const timers = { armApprovalTimeout: async (finished: RunEvent<'RunFinished'>) => void armed.push(finished) };
    const work = { forward: async (stored: StoredRunEvent) => void forwarded.push(stored) };
    handler = new RunEventsHandler(events, new RunCommands(events), lanes, timers, work);
  });

  const deliver = (stored: StoredRunEvent, overrides: Partial<HandlerContext> = {}) => handler.handle(stored.event, deliveryOf(stored, overrides));
  const create = async (agentId: string, maxSteps = 3): Promise<StoredRunEvent> => {
    const event = sampleRunCreated(agentId, { maxSteps });
    return { event, streamSeq: await events.create(event) };
  };
  const latest = async (runId: string) => (await events.latest(runId))!;
  const types = (runId: string) => events.history(runId).map((event) => event.type);
  const completeStep = async (runId: string, overrides: Partial<StepCompletedData> = {}) => {
    const requested = (await latest(runId)) as StoredRunEvent & { event: RunEvent<'StepRequested'> };
    const { stepId, stepIndex, maxSteps } = requested.event.data;
    const draft: RunEventDraft = {
      type: 'StepCompleted',
      data: {
        stepId, stepIndex, maxSteps, model: 'm', modelHandle: 'openai/m', messages: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        continueLoop: false, stopReason: null, firstTokenAtMs: null, llmRequestStartedAtMs: 0, completedAt: new Date().toISOString(), ...overrides,
      },
    };
    const [completed] = await events.appendAfter(requested, [draft]);
    return completed;
  };

  it('starts a created run once, however often its RunCreated is delivered', async () => {
    const run = await create(newId('agent'));
    await Promise.all([deliver(run), deliver(run, { deliveryCount: 2 }), deliver(run, { deliveryCount: 3 })]);
    expect(types(run.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
    expect((await latest(run.event.runId)).event).toMatchObject({ data: { stepIndex: 1, createdStreamSeq: run.streamSeq } });
  });

  it('copies each StepRequested and RunFinished it is delivered to the work queues, and no other event', async () => {
    const run = await create(newId('agent'), 1);
    await deliver(run);
    const requested = await latest(run.event.runId);
    await deliver(requested);
    const completed = await completeStep(run.event.runId);
    await deliver(completed);
    const finished = await latest(run.event.runId);
    await deliver(finished);
    expect(finished.event.type).toBe('RunFinished');
    expect(forwarded).toEqual([requested, finished]);
  });

  it('keeps a second run of the lane waiting until the first one finishes, then starts it', async () => {
    const agentId = newId('agent');
    const [first, second] = [await create(agentId), await create(agentId)];
    await deliver(first);
    await deliver(second);
    expect(types(second.event.runId)).toEqual(['RunCreated']);

    await deliver(await completeStep(first.event.runId));
    const finished = await latest(first.event.runId);
    expect(finished.event).toMatchObject({ type: 'RunFinished', data: { stopReason: 'end_turn', status: 'completed' } });
    expect(types(second.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
    expect((await lanes.read(agentId)).active?.runId).toBe(second.event.runId);

    // The RunFinished's own delivery changes nothing more.
    await deliver(finished);
    expect(types(second.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
  });

  it('requests the next step while the loop continues, and ends the run at max_steps', async () => {
    const run = await create(newId('agent'), 2);
    await deliver(run);
    await deliver(await completeStep(run.event.runId, { continueLoop: true }));
    expect((await latest(run.event.runId)).event).toMatchObject({ type: 'StepRequested', data: { stepIndex: 2 } });
    await deliver(await completeStep(run.event.runId, { continueLoop: true }));
    expect((await latest(run.event.runId)).event).toMatchObject({ type: 'RunFinished', data: { stopReason: 'max_steps' } });
  });

  it('drops a decision on a stale event: a StepCompleted delivered after the run was cancelled appends nothing', async () => {
    const run = await create(newId('agent'));
    await deliver(run);
    const completed = await completeStep(run.event.runId, { continueLoop: true });
    await new RunCommands(events).executeAfter(completed, { kind: 'cancel' });
    await deliver(completed);
    expect(types(run.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested', 'StepCompleted', 'RunFinished']);
    expect((await latest(run.event.runId)).event).toMatchObject({ data: { stopReason: 'cancelled' } });
  });

  it("reads nothing for the delivery of what it appended itself: the RunStarted of its chain, a RunFinished after which it moved the lane on", async () => {
    const agentId = newId('agent');
    const [first, second] = [await create(agentId), await create(agentId)];
    await deliver(first);
    await deliver(second);
    await deliver(await completeStep(first.event.runId));
    const started = (await events.nextOf(first.event.runId, first.streamSeq + 1))!;
    const finished = await latest(first.event.runId);
    expect([started.event.type, finished.event.type]).toEqual(['RunStarted', 'RunFinished']);
    const reads = [jest.spyOn(events, 'latest'), jest.spyOn(lanes, 'read'), jest.spyOn(lanes, 'update')];
    await deliver(started);
    await deliver(finished);
    expect(reads.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0]);
    expect(types(second.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
  });

  it('does the follow-up of those deliveries when another replica appended them', async () => {
    const agentId = newId('agent');
    const [first, second] = [await create(agentId), await create(agentId)];
    await deliver(first);
    await deliver(second);
    await deliver(await completeStep(first.event.runId));
    const replica = new RunEventsHandler(events, new RunCommands(events), lanes, { armApprovalTimeout: async () => undefined }, { forward: async () => undefined });
    const latestRead = jest.spyOn(events, 'latest');
    const laneRead = jest.spyOn(lanes, 'read');
    await replica.handle((await latest(first.event.runId)).event, deliveryOf(await latest(first.event.runId)));
    expect(laneRead).toHaveBeenCalledTimes(1);
    expect(latestRead).toHaveBeenCalled();
    expect(types(second.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
  });

  it('requests the first step of a run whose start chain a crash split', async () => {
    const run = await create(newId('agent'));
    const [started] = await events.appendAfter(run, [{ type: 'RunStarted', data: { startedAt: new Date().toISOString(), maxSteps: 3 } }]);
    await deliver(started);
    expect(types(run.event.runId)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
  });

  it('ends the run failed on the last delivery that cannot move it on, and only then', async () => {
    const run = await create(newId('agent'));
    const broken = new Error('lane store down');
    lanes.update = async () => {
      throw broken;
    };
    await expect(deliver(run)).rejects.toBe(broken);
    expect(types(run.event.runId)).toEqual(['RunCreated']);
    await expect(deliver(run, { deliveryCount: 5, isLastAttempt: true })).rejects.toBe(broken);
    expect((await latest(run.event.runId)).event).toMatchObject({
      type: 'RunFinished',
      data: { status: 'failed', stopReason: 'error', error: expect.stringContaining('could not move the run on after RunCreated') },
    });
  });

  describe('a pause for approval with a timeout', () => {
    const pause = async (agentId: string, completedAt: Date): Promise<StoredRunEvent & { event: RunEvent<'RunFinished'> }> => {
      const run = await create(agentId);
      await lanes.update(agentId, (lane: LaneState) => enqueue(lane, { runId: run.event.runId, createdSeq: run.streamSeq }));
      const [finished] = await events.appendAfter(run, [
        {
          type: 'RunFinished',
          data: { status: 'completed', stopReason: 'requires_approval', completedAt: completedAt.toISOString(), error: null, approvalTimeout: { seconds: 60, toolCallIds: ['call-1'] } },
        },
      ]);
      return finished as StoredRunEvent & { event: RunEvent<'RunFinished'> };
    };
    const fireTimer = (finished: StoredRunEvent) => handler.onApprovalTimer(finished.event);

    it('arms its durable timer when the RunFinished arrives', async () => {
      const finished = await pause(newId('agent'), new Date());
      await deliver(finished);
      expect(armed.map((event) => event.runId)).toEqual([finished.event.runId]);
    });

    it('waits out the timeout: a timer that fires early is asked back later', async () => {
      const finished = await pause(newId('agent'), new Date());
      await expect(fireTimer(finished)).rejects.toBeInstanceOf(RetryLater);
    });

    it('once due, starts the run that denies the calls and continues, once', async () => {
      const agentId = newId('agent');
      const finished = await pause(agentId, new Date(Date.now() - 61_000));
      await deliver(finished);
      await fireTimer(finished);
      await fireTimer(finished);
      const lane = await lanes.read(agentId);
      const continuation = lane.active!.runId;
      expect(continuation).not.toBe(finished.event.runId);
      expect(types(continuation)).toEqual(['RunCreated', 'RunStarted', 'StepRequested']);
      expect(events.history(continuation)[0]).toMatchObject({ data: { metadata: { run_type: 'approval_timeout', timed_out_run_id: finished.event.runId } } });
    });

    it('does nothing when another run was sent on the lane meanwhile (the answer)', async () => {
      const agentId = newId('agent');
      const finished = await pause(agentId, new Date(Date.now() - 61_000));
      const answer = await create(agentId);
      await lanes.update(agentId, (lane) => enqueue(lane, { runId: answer.event.runId, createdSeq: answer.streamSeq }));
      await fireTimer(finished);
      expect((await lanes.read(agentId)).latestRunId).toBe(answer.event.runId);
    });
  });
});
