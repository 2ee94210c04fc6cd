import { createHash } from 'node:crypto';
import { headers } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import {
  EVENT_TYPE_HEADER,
  RUN_EVENTS_STREAM,
  RUN_EVENT_EXAMPLES,
  RUN_EVENT_SCHEMA_VERSION,
  RUN_PAYLOADS_BUCKET,
  newId,
  runSubject,
  type AnyRunEvent,
  type RunEvent,
} from '@lrs/contracts';
import { startTestNats } from '@lrs/testing';
import type { RunningNats } from '@lrs/local-stack';
import { connectJetStream, type JetStreamContext } from './connection';
import { provisionJetStream } from './provisioning';
import { RunEventStore } from './run-event-store';
import { EventPayloads } from './event-payloads';
import { ConsumerRunner } from './consumer-runner';
import { DeadLetters } from './dead-letters';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A RunCreated as version 1 wrote it (no approvalTimeoutSeconds), for a run of its own. */
function versionOneRunCreated(): Record<string, unknown> {
  const example = RUN_EVENT_EXAMPLES.RunCreated;
  const runId = newId('run');
  const { approvalTimeoutSeconds: _absentInVersionOne, ...data } = example.data;
  return { ...example, id: `evt:${runId}:1`, runId, version: 1, data };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

/** Every read of RUN_EVENTS goes through the contract: old versions are upcast, invalid events are poison. */
describe('the run event contract on a real JetStream', () => {
  let nats: RunningNats;
  let context: JetStreamContext;

  const publishRaw = async (event: Record<string, unknown>) => {
    const hdrs = headers();
    hdrs.set(EVENT_TYPE_HEADER, String(event['type']));
    return (await context.js.publish(runSubject(String(event['runId'])), JSON.stringify(event), { headers: hdrs })).seq;
  };

  beforeAll(async () => {
    nats = await startTestNats();
    context = await connectJetStream({ servers: nats.url, name: 'run-event-contract-int-spec' });
    await provisionJetStream(context.jsm, context.js, { replicas: 1, runEventsMaxAgeMs: 0 });
  });
  afterAll(async () => {
    await context?.nc.drain();
    await nats?.stop();
  });

  it('reads a version-1 event from the log upcast to the current version, its data inline or claimed', async () => {
    const payloads = await EventPayloads.open(context.js);
    const store = new RunEventStore(context.js, context.jsm, payloads);

    const inline = versionOneRunCreated();
    await publishRaw(inline);
    const read = (await store.latest(String(inline['runId'])))!.event as RunEvent<'RunCreated'>;
    expect(read.version).toBe(RUN_EVENT_SCHEMA_VERSION);
    expect(read.data).toEqual({ ...(inline['data'] as object), approvalTimeoutSeconds: null });

    const claimed = versionOneRunCreated();
    const data = Buffer.from(JSON.stringify(claimed['data']));
    await (await new Objm(context.js).open(RUN_PAYLOADS_BUCKET)).putBlob({ name: String(claimed['id']) }, data);
    const claim = { name: claimed['id'], size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    await publishRaw({ ...claimed, data: null, claim });
    const resolved = (await store.latest(String(claimed['runId'])))!.event as RunEvent<'RunCreated'> & { claim?: unknown };
    expect(resolved.version).toBe(RUN_EVENT_SCHEMA_VERSION);
    expect(resolved.data).toEqual({ ...(claimed['data'] as object), approvalTimeoutSeconds: null });
    expect(resolved.claim).toBeUndefined();
  });

  it('dead-letters an invalid or too new event on its first delivery, and hands the valid ones on', async () => {
    await context.jsm.consumers.add(RUN_EVENTS_STREAM, {
      durable_name: 'test-contract',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: 2_000_000_000,
      max_deliver: 5,
    });
    const handled: AnyRunEvent[] = [];
    const runner = new ConsumerRunner({
      js: context.js,
      consumer: 'test-contract',
      eventTypes: 'all',
      concurrency: 1,
      maxDeliver: 5,
      retry: { baseMs: 10, capMs: 20 },
      logger: quiet,
      handler: async (event) => void handled.push(event),
    });
    await runner.start();
    try {
      const finished = RUN_EVENT_EXAMPLES.RunFinished;
      const invalid = { ...finished, runId: newId('run'), data: { ...finished.data, status: 'exploded' } };
      const tooNew = { ...finished, runId: newId('run'), version: RUN_EVENT_SCHEMA_VERSION + 1 };
      const old = versionOneRunCreated();
      const invalidSeq = await publishRaw(invalid);
      const tooNewSeq = await publishRaw(tooNew);
      await publishRaw(old);

      const deadLetters = new DeadLetters(context.nc, context.jsm);
      const letters = await until(() => deadLetters.list('test-contract'), (found) => found.length === 2);
      expect(letters.map((letter) => ({ streamSeq: letter.streamSeq, eventType: letter.eventType, runId: letter.runId }))).toEqual([
        { streamSeq: invalidSeq, eventType: 'RunFinished', runId: invalid.runId },
        { streamSeq: tooNewSeq, eventType: 'RunFinished', runId: tooNew.runId },
      ]);
      expect(letters[0].error).toMatch(/^RunFinished #5 of run .* has invalid data: data\/status must be equal to one of the allowed values/);
      expect(letters[1].error).toMatch(new RegExp(`has schema version ${RUN_EVENT_SCHEMA_VERSION + 1}, newer than version ${RUN_EVENT_SCHEMA_VERSION} that this build reads`));

      await until(async () => handled.length, (count) => count === 1);
      expect(handled).toEqual([expect.objectContaining({ runId: old['runId'], version: RUN_EVENT_SCHEMA_VERSION })]);
      // Poison, not a failure to retry: neither was delivered a second time.
      const info = await context.jsm.consumers.info(RUN_EVENTS_STREAM, 'test-contract');
      expect(info.num_redelivered).toBe(0);
    } finally {
      await runner.stop();
    }
  });
});
