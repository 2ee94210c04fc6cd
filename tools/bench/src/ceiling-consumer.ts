/**
 * Worker-thread entry of the ceiling measurement: one durable pull consumer, pulled the way the
 * services' ConsumerRunner pulls (`consume` with max_messages = max(16, 2 x concurrency), bounded
 * handlers in flight). The projector-like consumer writes each event to Postgres, one statement
 * per event, in batches of whatever has arrived (at most `batchSize`) per transaction, and acks
 * after the commit; the others ack on receipt.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect } from '@nats-io/transport-node';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import { Client } from 'pg';

export interface CeilingConsumerData {
  natsUrl: string;
  stream: string;
  consumer: string;
  concurrency: number;
  /** Acks after which the consumer reports done. */
  expected: number;
  database: { url: string; table: string; batchSize: number } | null;
}

export type CeilingConsumerMessage = { type: 'ready' } | { type: 'done'; acked: number } | { type: 'error'; message: string };

interface Pending {
  msg: JsMsg;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class PostgresBatcher {
  private pending: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly client: Client,
    private readonly table: string,
    private readonly batchSize: number,
  ) {}

  submit(msg: JsMsg): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ msg, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.batchSize).sort((a, b) => a.msg.seq - b.msg.seq);
      try {
        await this.apply(batch.map((p) => p.msg));
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = false;
  }

  private async apply(batch: JsMsg[]): Promise<void> {
    await this.client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    try {
      for (const msg of batch) {
        const event = JSON.parse(Buffer.from(msg.data).toString('utf8')) as { runId: string; seq: number; type: string; data: unknown };
        if (event.seq === 1) {
          await this.client.query(
            `INSERT INTO ${this.table} (id, type, version, last_stream_seq, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
            [event.runId, event.type, event.seq, msg.seq, event.data],
          );
        } else {
          await this.client.query(`UPDATE ${this.table} SET type = $2, version = $3, last_stream_seq = $4, data = $5 WHERE id = $1`, [
            event.runId,
            event.type,
            event.seq,
            msg.seq,
            event.data,
          ]);
        }
      }
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

async function main(data: CeilingConsumerData): Promise<void> {
  const port = parentPort!;
  const nc = await connect({ servers: data.natsUrl, name: `bench-ceiling-${data.consumer}` });
  let client: Client | null = null;
  let batcher: PostgresBatcher | null = null;
  if (data.database) {
    client = new Client({ connectionString: data.database.url, application_name: 'bench-ceiling' });
    await client.connect();
    batcher = new PostgresBatcher(client, data.database.table, data.database.batchSize);
  }
  const js = jetstream(nc, { timeout: 10_000 });
  const consumer = await js.consumers.get(data.stream, data.consumer);
  const messages = await consumer.consume({ max_messages: Math.max(16, data.concurrency * 2) });
  port.postMessage({ type: 'ready' } satisfies CeilingConsumerMessage);

  let acked = 0;
  const acknowledge = (msg: JsMsg): void => {
    msg.ack();
    acked++;
    if (acked === data.expected) port.postMessage({ type: 'done', acked } satisfies CeilingConsumerMessage);
  };
  const inFlight = new Set<Promise<void>>();
  for await (const msg of messages) {
    if (!batcher) {
      acknowledge(msg);
      continue;
    }
    while (inFlight.size >= data.concurrency) await Promise.race(inFlight);
    const task: Promise<void> = batcher
      .submit(msg)
      .then(
        () => acknowledge(msg),
        (error: unknown) => {
          port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies CeilingConsumerMessage);
          msg.nak(100);
        },
      )
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  await client?.end();
}

if (parentPort) {
  main(workerData as CeilingConsumerData).catch((error: unknown) => {
    parentPort!.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies CeilingConsumerMessage);
  });
}
