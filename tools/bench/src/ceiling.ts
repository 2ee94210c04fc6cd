import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Client } from 'pg';
import { EVENT_TYPE_HEADER, RUN_EVENT_SCHEMA_VERSION } from '@lrs/contracts';
import { CONSUMER_POLICIES, ensureConsumer } from '@lrs/jetstream';
import type { CeilingConsumerData, CeilingConsumerMessage } from './ceiling-consumer';
import { nowMs } from './util';

/** In-flight handlers per process by default (ORCHESTRATOR_CONCURRENCY, PROJECTOR_BATCH_SIZE, ...). */
const SERVICE_CONCURRENCY: Record<keyof typeof CONSUMER_POLICIES, number> = {
  orchestrator: 64,
  projector: 256,
  llmWorker: 64,
  callbackDispatcher: 256,
};
const PROJECTOR_BATCH_SIZE = 256;

export interface CeilingOptions {
  natsUrl: string;
  databaseUrl: string;
  /** Label, also used to name the stream and table. */
  shape: string;
  runs: number;
  eventsPerRun: number;
  /** Average payload of a pipeline event, so the ceiling moves as many bytes. */
  payloadBytes: number;
  /** Runs appended at once (the closed-loop client count). */
  concurrency: number;
}

export interface CeilingResult {
  shape: string;
  runs: number;
  events_per_run: number;
  payload_bytes: number;
  concurrency: number;
  /** First publish to the last consumer's last ack. */
  elapsed_ms: number;
  /** First publish to the last publish ack. */
  publish_elapsed_ms: number;
  runs_per_s: number;
  events_per_s: number;
}

/**
 * The infrastructure's own limit for the pipeline's event traffic, with no service in the way:
 * each run is a chain of `eventsPerRun` synchronous conditional publishes (expected last subject
 * sequence + Nats-Msg-Id, like RunEventStore), `concurrency` runs at a time, consumed by four
 * durable pull consumers with the pipeline's policies in their own threads, one of which writes
 * every event to Postgres batched like the projector. Lane KV operations, direct gets and the
 * services' Postgres reads are not part of it.
 */
export async function measureCeiling(nc: NatsConnection, jsm: JetStreamManager, options: CeilingOptions): Promise<CeilingResult> {
  const stream = `BENCH_CEILING_${options.shape.toUpperCase()}`;
  const subjectPrefix = `ceiling${options.shape}.`;
  const table = `bench_ceiling_${options.shape.toLowerCase()}`;
  await provision(jsm, stream, subjectPrefix);
  await createTable(options.databaseUrl, table);

  const expected = options.runs * options.eventsPerRun;
  const workers: Worker[] = [];
  try {
    const done: Promise<void>[] = [];
    const ready: Promise<void>[] = [];
    for (const [key, policy] of Object.entries(CONSUMER_POLICIES) as [keyof typeof CONSUMER_POLICIES, (typeof CONSUMER_POLICIES)[keyof typeof CONSUMER_POLICIES]][]) {
      const data: CeilingConsumerData = {
        natsUrl: options.natsUrl,
        stream,
        consumer: policy.name,
        concurrency: SERVICE_CONCURRENCY[key],
        expected,
        database: key === 'projector' ? { url: options.databaseUrl, table, batchSize: PROJECTOR_BATCH_SIZE } : null,
      };
      const worker = new Worker(join(__dirname, 'ceiling-consumer.js'), { workerData: data });
      workers.push(worker);
      let signalReady: () => void = () => undefined;
      let signalDone: () => void = () => undefined;
      let fail: (error: Error) => void = () => undefined;
      ready.push(new Promise<void>((resolve) => (signalReady = resolve)));
      done.push(
        new Promise<void>((resolve, reject) => {
          signalDone = resolve;
          fail = reject;
        }),
      );
      worker.on('message', (message: CeilingConsumerMessage) => {
        if (message.type === 'ready') signalReady();
        else if (message.type === 'done') signalDone();
        else fail(new Error(`ceiling consumer ${policy.name}: ${message.message}`));
      });
      worker.on('error', (error) => fail(error));
    }
    // Rejects as soon as any consumer fails; never resolves.
    const failed = Promise.race(done.map((promise) => promise.then(() => new Promise<never>(() => undefined))));
    failed.catch(() => undefined);
    await withTimeout(Promise.race([Promise.all(ready), failed]), 30_000, 'ceiling consumers did not start within 30 s');

    const startMs = nowMs();
    await Promise.race([publishRuns(nc, subjectPrefix, options), failed]);
    const publishedMs = nowMs();
    await withTimeout(Promise.all(done), 120_000, 'ceiling consumers did not catch up within 120 s');
    const elapsedMs = nowMs() - startMs;
    return {
      shape: options.shape,
      runs: options.runs,
      events_per_run: options.eventsPerRun,
      payload_bytes: options.payloadBytes,
      concurrency: options.concurrency,
      elapsed_ms: elapsedMs,
      publish_elapsed_ms: publishedMs - startMs,
      runs_per_s: options.runs / (elapsedMs / 1000),
      events_per_s: expected / (elapsedMs / 1000),
    };
  } finally {
    await Promise.allSettled(workers.map((worker) => worker.terminate()));
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}

async function publishRuns(nc: NatsConnection, subjectPrefix: string, options: CeilingOptions): Promise<void> {
  const js = jetstream(nc, { timeout: 10_000 });
  const types = eventTypes(options.eventsPerRun);
  const organizationId = 'org-00000000-0000-4000-8000-000000000000';
  const agentId = `agent-${randomUUID()}`;
  const sample = JSON.stringify(envelope(`run-${randomUUID()}`, 1, types[0], agentId, organizationId, ''));
  const pad = 'x'.repeat(Math.max(0, options.payloadBytes - sample.length));
  let next = 0;
  const chains = Array.from({ length: Math.min(options.concurrency, options.runs) }, async () => {
    while (next < options.runs) {
      next++;
      const runId = `run-${randomUUID()}`;
      let lastSubjectSequence = 0;
      for (let seq = 1; seq <= options.eventsPerRun; seq++) {
        const hdrs = headers();
        hdrs.set(EVENT_TYPE_HEADER, types[seq - 1]);
        const ack = await js.publish(`${subjectPrefix}${runId}`, JSON.stringify(envelope(runId, seq, types[seq - 1], agentId, organizationId, pad)), {
          msgID: `evt:${runId}:${seq}`,
          headers: hdrs,
          expect: { lastSubjectSequence },
          retries: 3,
        });
        lastSubjectSequence = ack.seq;
      }
    }
  });
  await Promise.all(chains);
}

function envelope(runId: string, seq: number, type: string, agentId: string, organizationId: string, pad: string): object {
  return {
    id: `evt:${runId}:${seq}`,
    type,
    version: RUN_EVENT_SCHEMA_VERSION,
    runId,
    seq,
    occurredAt: new Date().toISOString(),
    organizationId,
    agentId,
    laneId: agentId,
    traceparent: null,
    data: { pad },
  };
}

/** The pipeline's event sequence for a run of this many events (for the type header only). */
function eventTypes(count: number): string[] {
  const middle = Math.max(0, count - 4);
  const types = ['RunCreated', 'RunStarted'];
  for (let index = 0; index < middle; index++) types.push(index % 2 === 0 ? 'StepRequested' : 'StepCompleted');
  types.push('RunFinished', 'CallbackAttempted');
  return types.slice(0, count);
}

async function provision(jsm: JetStreamManager, stream: string, subjectPrefix: string): Promise<void> {
  await jsm.streams.delete(stream).catch(() => undefined);
  // The RUN_EVENTS configuration (provisioning.ts), on subjects of its own.
  await jsm.streams.add({
    name: stream,
    subjects: [`${subjectPrefix}>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    max_age: 0,
    duplicate_window: 120_000 * 1_000_000,
    allow_direct: true,
    deny_delete: true,
  });
  // Every consumer reads every event here, as all four did before the llm-worker and the callback
  // dispatcher moved to work queues: the ceiling stays the one earlier figures were measured against.
  for (const policy of Object.values(CONSUMER_POLICIES)) await ensureConsumer(jsm, { ...policy, stream, filterSubject: undefined });
}

async function createTable(databaseUrl: string, table: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(
      `CREATE TABLE ${table} (id text PRIMARY KEY, type text NOT NULL, version integer NOT NULL, last_stream_seq bigint NOT NULL, data jsonb NOT NULL)`,
    );
  } finally {
    await client.end();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
