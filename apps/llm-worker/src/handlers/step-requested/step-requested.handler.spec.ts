import { newId, type RunEvent } from '@lrs/contracts';
import { RunCommands, type StoredRunEvent } from '@lrs/jetstream';
import type { StepRecord } from '@lrs/read-model';
import { InMemoryRunEventStore, deliveryOf, sampleRunCreated } from '@lrs/testing';
import { StepRequestedHandler } from './step-requested.handler';

/**
 * The step handler's bookkeeping around the model call, on the in-memory event log: what it
 * appends, and how it makes the thread's rows match the log when the run moved on. The model
 * path itself is proved end to end (apps/e2e) against the fake model.
 */
describe('llm-worker step handler (in memory)', () => {
  let events: InMemoryRunEventStore;
  let written: StepRecord[];
  let discarded: string[];
  let agent: { get: () => Promise<unknown> };

  const handlerWith = () => {
    const records = {
      write: async (record: StepRecord) => {
        written.push(record);
        return { messages: record.messages, memoryEdits: record.memoryEdits };
      },
      discard: async (_owner: unknown, stepId: string) => void discarded.push(stepId),
    };
    const contexts = { messages: async () => [] };
    // The model, tools, fitter and notice buses are not reached on these paths.
    return new StepRequestedHandler(
      events, new RunCommands(events), agent as never, records as never, contexts as never,
      null as never, null as never, null as never, null as never, null as never, { modelMaxAttempts: 3 } as never,
      { afterStepWrite: async () => undefined } as never,
      null as never,
    );
  };

  beforeEach(() => {
    events = new InMemoryRunEventStore();
    written = [];
    discarded = [];
    agent = { get: async () => null };
  });

  const requestStep = async (): Promise<StoredRunEvent & { event: RunEvent<'StepRequested'> }> => {
    const created = sampleRunCreated(newId('agent'));
    const createdSeq = await events.create(created);
    const [, requested] = await events.appendAfter({ event: created, streamSeq: createdSeq }, [
      { type: 'RunStarted', data: { startedAt: new Date().toISOString(), maxSteps: 5, createdStreamSeq: createdSeq } },
      { type: 'StepRequested', data: { stepId: newId('step'), stepIndex: 1, maxSteps: 5, requestedAt: new Date().toISOString(), createdStreamSeq: createdSeq } },
    ]);
    return requested as StoredRunEvent & { event: RunEvent<'StepRequested'> };
  };

  it('fails the step, behind its StepRequested, when the agent no longer exists', async () => {
    const requested = await requestStep();
    await handlerWith().handle(requested.event, deliveryOf(requested));
    const answer = (await events.latest(requested.event.runId))!.event;
    expect(answer).toMatchObject({
      type: 'StepFailed',
      seq: requested.event.seq + 1,
      data: { stepId: requested.event.data.stepId, stopReason: 'error', errorType: 'internal_error', createdStreamSeq: requested.event.data.createdStreamSeq },
    });
    expect(written.map((record) => record.stepId)).toEqual([requested.event.data.stepId]);
  });

  it('on its last delivery, fails a step that keeps failing, so the run still ends', async () => {
    const requested = await requestStep();
    agent.get = async () => {
      throw new Error('database restarting');
    };
    const handler = handlerWith();
    await expect(handler.handle(requested.event, deliveryOf(requested, { deliveryCount: 1 }))).rejects.toThrow('database restarting');
    expect((await events.latest(requested.event.runId))!.event.type).toBe('StepRequested');

    await handler.handle(requested.event, deliveryOf(requested, { deliveryCount: 10, isLastAttempt: true }));
    expect((await events.latest(requested.event.runId))!.event).toMatchObject({ type: 'StepFailed', data: { errorType: 'internal_error', attempts: 10 } });
  });

  it('on a redelivery after the run was cancelled, discards the rows the lost attempt may have written', async () => {
    const requested = await requestStep();
    await new RunCommands(events).executeAfter(requested, { kind: 'cancel' });
    await handlerWith().handle(requested.event, deliveryOf(requested, { deliveryCount: 2 }));
    expect(discarded).toEqual([requested.event.data.stepId]);
    expect((await events.latest(requested.event.runId))!.event).toMatchObject({ type: 'RunFinished', data: { stopReason: 'cancelled' } });
  });

  it('on a redelivery after another attempt answered, keeps that answer and rewrites its rows', async () => {
    const requested = await requestStep();
    const { stepId, stepIndex, maxSteps } = requested.event.data;
    await events.appendAfter(requested, [
      {
        type: 'StepCompleted',
        data: {
          stepId, stepIndex, maxSteps, model: 'm', modelHandle: 'openai/m', messages: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          memoryEdits: [{ label: 'human', value: 'Sam' }], continueLoop: false, stopReason: null, firstTokenAtMs: null, llmRequestStartedAtMs: 0, completedAt: new Date().toISOString(),
        },
      },
    ]);
    await handlerWith().handle(requested.event, deliveryOf(requested, { deliveryCount: 2 }));
    expect(discarded).toEqual([]);
    expect(written).toMatchObject([{ stepId, memoryEdits: [{ label: 'human', value: 'Sam' }] }]);
  });
});
