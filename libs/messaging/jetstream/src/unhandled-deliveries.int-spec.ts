import { RUN_EVENTS_STREAM, type AnyRunEvent } from '@lrs/contracts';
import { sampleRunCreated, startTestNats, waitUntil } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { ensureConsumer, provisionJetStream } from './provisioning';
import { RunEventStore } from './run-event-store';
import { ConsumerRunner } from './consumer-runner';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const MAX_DELIVER = 2;

/**
 * Deliveries that never reach a handler (the process holding the message was SIGKILLed, or was
 * stopping) must not use up the message: once a handler runs, it still gets it, knowing it is
 * past its attempts. With the server's max_deliver equal to the handler's attempts, JetStream
 * would have dropped it after two such deliveries, silently.
 */
describe('a message whose deliveries were lost before any handler ran', () => {
  let nats: RunningNats;
  let context: JetStreamContext;

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'unhandled-deliveries-int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    await ensureConsumer(context.jsm, { name: 'test-crashing', stream: RUN_EVENTS_STREAM, ackWaitMs: 300, maxDeliver: MAX_DELIVER, maxAckPending: 100 });
  });
  afterAll(async () => {
    await context?.nc.drain();
    await nats?.stop();
  });

  it('still reaches a handler after more lost deliveries than its attempts', async () => {
    const event = sampleRunCreated('agent-crashing');
    const streamSeq = await new RunEventStore(context.js, context.jsm).create(event);
    const consumer = await context.js.consumers.get(RUN_EVENTS_STREAM, 'test-crashing');
    // Processes that die holding the message: each takes it and never answers; ack_wait expires.
    for (let lost = 1; lost <= MAX_DELIVER; lost++) {
      const message = await consumer.next({ expires: 5_000 });
      expect({ seq: message?.seq, deliveryCount: message?.info.deliveryCount }).toEqual({ seq: streamSeq, deliveryCount: lost });
    }

    const handled: { event: AnyRunEvent; deliveryCount: number; isLastAttempt: boolean }[] = [];
    const runner = new ConsumerRunner({
      js: context.js,
      consumer: 'test-crashing',
      eventTypes: 'all',
      concurrency: 1,
      maxDeliver: MAX_DELIVER,
      logger: quiet,
      handler: async (received, handlerContext) => void handled.push({ event: received, deliveryCount: handlerContext.deliveryCount, isLastAttempt: handlerContext.isLastAttempt }),
    });
    await runner.start();
    try {
      await waitUntil(() => handled.length > 0, 10_000);
    } finally {
      await runner.stop();
    }
    expect(handled).toEqual([{ event, deliveryCount: MAX_DELIVER + 1, isLastAttempt: true }]);
    // Acked, so never delivered again (an ack reaches the consumer shortly after the handler ends).
    let outstanding = -1;
    for (let check = 0; check < 50 && outstanding !== 0; check++) {
      const info = await context.jsm.consumers.info(RUN_EVENTS_STREAM, 'test-crashing');
      outstanding = info.num_ack_pending + info.num_pending;
      if (outstanding !== 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(outstanding).toBe(0);
  }, 30_000);
});
