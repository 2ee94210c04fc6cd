import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import {
  EVENT_TYPE_HEADER,
  RUN_EVENTS_STREAM,
  RUN_EVENTS_SUBJECTS,
  RUN_PAYLOADS_BUCKET,
  decodeRunEventMessage,
  withRunEventData,
  type AnyRunEvent,
  type RunEventMessage,
} from '@lrs/contracts';

/**
 * A subscriber of the run events (docs/events.md): its own durable consumer on RUN_EVENTS, one
 * JSON line on stdout per finished run, each message acked once it is printed. Stopped and
 * started again, it resumes where its consumer stands, so no run is printed twice.
 *
 *   NATS_URL=nats://127.0.0.1:4222 node dist/examples/run-finished-subscriber/src/main.js
 *
 * NATS_USER and NATS_PASSWORD log in as the read-only user of deploy/ (docs/events.md); DURABLE
 * names the consumer (default run-finished-example).
 */
const servers = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const durable = process.env['DURABLE'] ?? 'run-finished-example';

async function main(): Promise<void> {
  const nc = await connect({ servers, user: process.env['NATS_USER'], pass: process.env['NATS_PASSWORD'], name: durable });
  const js = jetstream(nc);
  // Creating a durable consumer that already exists with the same configuration is a no-op.
  await (await jetstreamManager(nc)).consumers.add(RUN_EVENTS_STREAM, {
    durable_name: durable,
    filter_subject: RUN_EVENTS_SUBJECTS,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const payloads = await new Objm(js).open(RUN_PAYLOADS_BUCKET);
  const messages = await (await js.consumers.get(RUN_EVENTS_STREAM, durable)).consume();
  const stop = () => void messages.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stderr.write(`consuming ${RUN_EVENTS_STREAM} as ${durable}\n`);

  /** The event with its data, fetched from the object store when the message carries a claim on it. */
  async function resolved(stored: RunEventMessage): Promise<AnyRunEvent> {
    if (!stored.claim) return stored;
    const data = await payloads.getBlob(stored.claim.name);
    if (!data) throw new Error(`claimed payload ${stored.claim.name} is missing`);
    return withRunEventData(stored, JSON.parse(Buffer.from(data).toString('utf8')));
  }

  async function handle(msg: JsMsg): Promise<void> {
    // The type is in a header: other events are acked without being parsed.
    if (msg.headers?.get(EVENT_TYPE_HEADER) === 'RunFinished') {
      const event = await resolved(decodeRunEventMessage(msg.data));
      // A run that paused for approval ends with RunFinished too, and goes on once answered.
      if (event.type === 'RunFinished' && event.data.stopReason !== 'requires_approval') {
        const { runId, agentId, id, data } = event;
        process.stdout.write(`${JSON.stringify({ run_id: runId, agent_id: agentId, status: data.status, stop_reason: data.stopReason, completed_at: data.completedAt, error: data.error, event_id: id })}\n`);
      }
    }
    // Acked only once printed, and confirmed by the server before the next message.
    await msg.ackAck();
  }

  for await (const msg of messages) {
    try {
      await handle(msg);
    } catch (error) {
      // An event this code cannot read will not become readable by retrying: say so and skip it.
      process.stderr.write(`skipping stream seq ${msg.seq}: ${error instanceof Error ? error.message : String(error)}\n`);
      msg.term();
    }
  }
  await nc.drain();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
