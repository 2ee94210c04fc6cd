import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import {
  CONSUMERS,
  DLQ_STREAM,
  IDEMPOTENCY_KEYS_BUCKET,
  RUN_EVENTS_STREAM,
  RUN_EVENTS_SUBJECTS,
  RUN_LANES_BUCKET,
  RUN_PAYLOADS_BUCKET,
  RUN_WORK_STREAM,
  decodeRunEventMessage,
  runSubject,
  withRunEventData,
  type AnyRunEvent,
} from '@lrs/contracts';
import { REPO_ROOT, sampleRunCreated, startTestNats, type TestNats } from '@lrs/testing';
import { connectJetStream, type JetStreamContext } from './connection';
import { CONSUMER_POLICIES, provisionJetStream } from './provisioning';
import { RunEventStore } from './run-event-store';
import { EventPayloads, EVENT_CLAIM_THRESHOLD_BYTES } from './event-payloads';

const CONFIG_MAP = join(REPO_ROOT, 'deploy/k8s/dev-dependencies/nats-config.yaml');
const READER = { user: 'run-events-reader', pass: 'reader-password-for-this-test' };
const READER_DURABLE = 'reader-example';

/** nats.conf exactly as the deployment's ConfigMap holds it. */
function deployedNatsConf(): string {
  const configMap = parseAllDocuments(readFileSync(CONFIG_MAP, 'utf8'))
    .map((document) => document.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> })
    .find((object) => object.kind === 'ConfigMap' && object.metadata?.name === 'nats-config');
  const conf = configMap?.data?.['nats.conf'];
  if (!conf) throw new Error(`${CONFIG_MAP} has no nats-config ConfigMap with nats.conf`);
  return conf;
}

/** The deployment's NATS authorization on a real server: the reader reads run events and nothing else. */
describe('the run-events-reader NATS user of deploy/', () => {
  let configDir: string;
  let nats: TestNats;
  let services: JetStreamContext;
  let reader: NatsConnection;
  let runId: string;

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'lrs-nats-conf-'));
    writeFileSync(join(configDir, 'nats.conf'), deployedNatsConf());
    nats = await startTestNats({ configFile: join(configDir, 'nats.conf'), env: { NATS_SERVICES_PASSWORD: 'services-password-for-this-test', RUN_EVENTS_READER_PASSWORD: READER.pass } });
    // The services connect without credentials, as they do today.
    services = await connectJetStream({ servers: nats.url, name: 'reader-permissions-services' });
    await provisionJetStream(services.jsm, services.js, { replicas: 1, runEventsMaxAgeMs: 0 });
    const store = new RunEventStore(services.js, services.jsm, await EventPayloads.open(services.js));
    // A RunCreated too large for a message: the reader must follow its claim into the object store.
    const created = sampleRunCreated('agent-reader');
    created.data.metadata = { note: 'x'.repeat(EVENT_CLAIM_THRESHOLD_BYTES) };
    runId = created.runId;
    const createdSeq = await store.create(created);
    await store.appendAfter({ event: created, streamSeq: createdSeq }, [
      { type: 'RunFinished', data: { status: 'completed', stopReason: 'end_turn', completedAt: new Date().toISOString(), error: null } },
    ]);
    reader = await connect({ servers: nats.url, ...READER });
  });
  afterAll(async () => {
    await reader?.close();
    await services?.nc.drain();
    await nats?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it('refuses a wrong password', async () => {
    await expect(connect({ servers: nats.url, user: READER.user, pass: 'wrong', reconnect: false })).rejects.toThrow(/Authorization/i);
  });

  it('reads the run events through a durable consumer of its own, claimed payloads included, and acks them', async () => {
    const jsm = await jetstreamManager(reader);
    const js = jetstream(reader);
    await jsm.consumers.add(RUN_EVENTS_STREAM, { durable_name: READER_DURABLE, filter_subject: RUN_EVENTS_SUBJECTS, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const payloads = await new Objm(js).open(RUN_PAYLOADS_BUCKET);
    const consumer = await js.consumers.get(RUN_EVENTS_STREAM, READER_DURABLE);
    const events: AnyRunEvent[] = [];
    for (const _ of [1, 2]) {
      const msg = await consumer.next({ expires: 5_000 });
      if (!msg) throw new Error('no message for the reader');
      const stored = decodeRunEventMessage(msg.data);
      const blob = stored.claim ? await payloads.getBlob(stored.claim.name) : null;
      events.push(blob ? withRunEventData(stored, JSON.parse(Buffer.from(blob).toString('utf8'))) : stored);
      await msg.ackAck();
    }
    expect(events.map((event) => [event.type, event.runId])).toEqual([
      ['RunCreated', runId],
      ['RunFinished', runId],
    ]);
    expect((events[0] as AnyRunEvent & { data: { metadata: { note: string } } }).data.metadata.note).toHaveLength(EVENT_CLAIM_THRESHOLD_BYTES);
    expect((await jsm.consumers.info(RUN_EVENTS_STREAM, READER_DURABLE)).num_ack_pending).toBe(0);
    // Direct gets work too: the run's latest event by its subject.
    expect((await jsm.direct.getMessage(RUN_EVENTS_STREAM, { last_by_subj: runSubject(runId) }))?.json<{ type: string }>().type).toBe('RunFinished');
  });

  it('cannot publish a run event: the stream stays as it was', async () => {
    const before = (await services.jsm.streams.info(RUN_EVENTS_STREAM)).state.last_seq;
    await expect(jetstream(reader, { timeout: 2_000 }).publish(runSubject(runId), '{}')).rejects.toThrow();
    await expect(jetstream(reader, { timeout: 2_000 }).publish(runSubject('run-forged'), '{}')).rejects.toThrow();
    expect((await services.jsm.streams.info(RUN_EVENTS_STREAM)).state.last_seq).toBe(before);
  });

  it("cannot read other streams or KV buckets, nor touch the services' consumers", async () => {
    const jsm = await jetstreamManager(reader, { timeout: 2_000 });
    const js = jetstream(reader, { timeout: 2_000 });
    const refused = /Permissions Violation/;
    await expect(jsm.streams.info(DLQ_STREAM)).rejects.toThrow(refused);
    await expect(jsm.direct.getMessage(DLQ_STREAM, { seq: 1 })).rejects.toThrow(refused);
    await expect(jsm.consumers.add(DLQ_STREAM, { durable_name: 'reader-dlq', ack_policy: AckPolicy.Explicit })).rejects.toThrow(refused);
    await expect(new Kvm(js).open(RUN_LANES_BUCKET).then((kv) => kv.get('agent-reader'))).rejects.toThrow(refused);
    await expect(new Kvm(js).open(IDEMPOTENCY_KEYS_BUCKET).then((kv) => kv.get('any'))).rejects.toThrow(refused);
    const request = (subject: string, body = '') => reader.request(subject, body, { timeout: 2_000 });
    // Nor the work queues, whose items the services take (acking one would take it from its service).
    await expect(jsm.streams.info(RUN_WORK_STREAM)).rejects.toThrow(refused);
    await expect(jsm.consumers.info(RUN_WORK_STREAM, CONSUMERS.llmWorker)).rejects.toThrow(refused);
    await expect(request(`$JS.API.CONSUMER.MSG.NEXT.${RUN_WORK_STREAM}.${CONSUMERS.llmWorker}`, JSON.stringify({ batch: 1, no_wait: true }))).rejects.toThrow(refused);
    for (const name of Object.values(CONSUMERS)) {
      await expect(jsm.consumers.info(RUN_EVENTS_STREAM, name)).rejects.toThrow(refused);
      await expect(jsm.consumers.add(RUN_EVENTS_STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit })).rejects.toThrow(refused);
      await expect(jsm.consumers.add(RUN_EVENTS_STREAM, { durable_name: name, filter_subject: RUN_EVENTS_SUBJECTS, ack_policy: AckPolicy.Explicit })).rejects.toThrow(refused);
      await expect(request(`$JS.API.CONSUMER.MSG.NEXT.${RUN_EVENTS_STREAM}.${name}`, JSON.stringify({ batch: 1, no_wait: true }))).rejects.toThrow(refused);
      await expect(request(`$JS.API.CONSUMER.DURABLE.CREATE.${RUN_EVENTS_STREAM}.${name}`, JSON.stringify({ stream_name: RUN_EVENTS_STREAM, config: { durable_name: name } }))).rejects.toThrow(refused);
      // A forged ack of one of their messages.
      await expect(request(`$JS.ACK.${RUN_EVENTS_STREAM}.${name}.1.1.1.0.0`)).rejects.toThrow(refused);
    }
    // Nor delete a consumer, its own included.
    await expect(request(`$JS.API.CONSUMER.DELETE.${RUN_EVENTS_STREAM}.${READER_DURABLE}`)).rejects.toThrow(refused);
    // Nothing it tried changed the services' consumers: none of their messages is pending an ack.
    for (const policy of Object.values(CONSUMER_POLICIES)) expect((await services.jsm.consumers.info(policy.stream, policy.name)).num_ack_pending).toBe(0);
  });
});
