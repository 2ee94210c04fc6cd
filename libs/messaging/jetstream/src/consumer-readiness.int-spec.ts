import { RUN_EVENTS_STREAM, type AnyRunEvent } from '@lrs/contracts';
import { sampleRunCreated, startTestNats, waitUntil } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { ensureConsumer, provisionJetStream, type ConsumerPolicy } from './provisioning';
import { RunEventStore } from './run-event-store';
import { ConsumerRunner } from './consumer-runner';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const POLICY: ConsumerPolicy = { name: 'test-readiness', stream: RUN_EVENTS_STREAM, ackWaitMs: 5_000, maxDeliver: 3, maxAckPending: 100 };

/**
 * Readiness's consumer check on its failing side: a runner whose durable consumer is deleted on
 * the server keeps its pull loop, but consumes nothing; it must say so (the probe answers 503
 * with the reason), and be ready again once the consumer is back and delivering.
 */
describe('a consumer runner whose consumer is deleted', () => {
  let nats: RunningNats;
  let context: JetStreamContext;

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'consumer-readiness-int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    await ensureConsumer(context.jsm, POLICY);
  });
  afterAll(async () => {
    await context?.nc.drain();
    await nats?.stop();
  });

  it('is not consuming, naming why, until the consumer exists again', async () => {
    const handled: AnyRunEvent[] = [];
    const runner = new ConsumerRunner({
      js: context.js,
      consumer: POLICY.name,
      eventTypes: 'all',
      concurrency: 1,
      maxDeliver: POLICY.maxDeliver,
      logger: quiet,
      handler: async (event) => void handled.push(event),
    });
    await runner.start();
    try {
      expect(runner.consuming).toBe(true);
      await context.jsm.consumers.delete(RUN_EVENTS_STREAM, POLICY.name);
      await waitUntil(() => !runner.consuming, 30_000);
      expect(runner.notConsumingBecause).toMatch(/consumer (deleted|not found)/);

      await ensureConsumer(context.jsm, POLICY);
      const event = sampleRunCreated('agent-readiness');
      await new RunEventStore(context.js, context.jsm).create(event);
      await waitUntil(() => handled.some((received) => received.runId === event.runId), 60_000);
      expect(runner.consuming).toBe(true);
      expect(runner.notConsumingBecause).toBeNull();
    } finally {
      await runner.stop();
    }
  }, 120_000);
});
