import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { DLQ_STREAM, RUN_EVENTS_STREAM, type AnyRunEvent } from '@lrs/contracts';
import { sampleRunCreated, startTestNats } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { RunEventStore } from './run-event-store';
import { ConsumerRunner } from './consumer-runner';
import { DeadLetters } from './dead-letters';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A consumer gives up on a message, the DLQ command lists it, and a redrive after the fix lands it once. */
describe('dead letters on a real JetStream', () => {
  let nats: RunningNats;
  let context: JetStreamContext;
  let runner: ConsumerRunner;
  const handled: { event: AnyRunEvent; streamSeq: number; deliveryCount: number }[] = [];
  let broken = true;

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'dead-letters-int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    await context.jsm.consumers.add(RUN_EVENTS_STREAM, {
      durable_name: 'test-fragile',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 2_000_000_000,
      max_deliver: 3,
    });
    runner = new ConsumerRunner({
      js: context.js,
      nc: context.nc,
      consumer: 'test-fragile',
      eventTypes: 'all',
      concurrency: 1,
      maxDeliver: 3,
      retry: { baseMs: 10, capMs: 20 },
      logger: quiet,
      handler: async (event, handlerContext) => {
        if (broken && event.type === 'RunCreated' && event.agentId === 'agent-poison') throw new Error('relation "x" is broken');
        handled.push({ event, streamSeq: handlerContext.streamSeq, deliveryCount: handlerContext.deliveryCount });
      },
    });
    await runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await context?.nc.drain();
    await nats?.stop();
  });

  it('lists what a consumer gave up on, with its reason, and redrives it once the cause is fixed', async () => {
    const store = new RunEventStore(context.js, context.jsm);
    const created = (agentId: string) => sampleRunCreated(agentId, { maxSteps: 1 });
    const poison = created('agent-poison');
    const poisonSeq = await store.create(poison);
    const healthy = created('agent-fine');
    await store.create(healthy);

    const deadLetters = new DeadLetters(context.nc, context.jsm);
    const deadline = Date.now() + 15_000;
    let letters = await deadLetters.list();
    while (letters.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      letters = await deadLetters.list();
    }
    // The poison message went to the DLQ after its 3 deliveries; the next message was not held up.
    expect(letters).toEqual([
      expect.objectContaining({ consumer: 'test-fragile', stream: RUN_EVENTS_STREAM, streamSeq: poisonSeq, eventType: 'RunCreated', runId: poison.runId, error: 'relation "x" is broken' }),
    ]);
    expect(handled.map((h) => h.event.runId)).toEqual([healthy.runId]);
    expect(await deadLetters.list('orchestrator-run-events')).toEqual([]);

    // Still broken: the redrive says why and the entry stays.
    expect(await deadLetters.redrive(letters[0])).toEqual({ ok: false, error: 'relation "x" is broken' });
    expect(await deadLetters.list()).toHaveLength(1);

    broken = false;
    expect(await deadLetters.redrive(letters[0])).toEqual({ ok: true });
    expect(handled.map((h) => [h.event.runId, h.streamSeq])).toEqual([
      [healthy.runId, poisonSeq + 1],
      [poison.runId, poisonSeq],
    ]);
    expect(await deadLetters.list()).toEqual([]);
    expect((await context.jsm.streams.info(DLQ_STREAM)).state.messages).toBe(0);
  });

  it('says so when no consumer of that name is running', async () => {
    const deadLetters = new DeadLetters(context.nc, context.jsm);
    const letter = { dlqSeq: 999, consumer: 'nobody', stream: RUN_EVENTS_STREAM, streamSeq: 1, eventType: 'RunCreated', runId: 'run-x', error: '', deadAt: '', data: new Uint8Array() };
    expect(await deadLetters.redrive(letter)).toEqual({ ok: false, error: 'no nobody consumer is running to take it' });
  });

  it('retries a message whose claimed payload cannot be fetched yet, instead of dead-lettering it', async () => {
    await context.jsm.consumers.add(RUN_EVENTS_STREAM, {
      durable_name: 'test-claims',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: 2_000_000_000,
      max_deliver: 3,
    });
    let fetches = 0;
    const seen: string[] = [];
    const claims = new ConsumerRunner({
      js: context.js,
      consumer: 'test-claims',
      eventTypes: 'all',
      concurrency: 1,
      maxDeliver: 3,
      retry: { baseMs: 10, capMs: 20 },
      logger: quiet,
      // The payload store does not answer the first time.
      resolve: async (event) => {
        if (++fetches === 1) throw new Error('payload store unreachable');
        return event;
      },
      handler: async (event) => void seen.push(event.runId),
    });
    await claims.start();
    try {
      const event = sampleRunCreated('agent-claims', { maxSteps: 1 });
      await new RunEventStore(context.js, context.jsm).create(event);
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen).toEqual([event.runId]);
      expect(fetches).toBe(2);
      expect(await new DeadLetters(context.nc, context.jsm).list('test-claims')).toEqual([]);
    } finally {
      await claims.stop();
    }
  });
});
