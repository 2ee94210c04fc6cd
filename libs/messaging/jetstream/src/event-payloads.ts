import { createHash } from 'node:crypto';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { JetStreamClient } from '@nats-io/jetstream';
import { RUN_PAYLOADS_BUCKET, withRunEventData, type AnyRunEvent, type PayloadClaim, type RunEventMessage } from '@lrs/contracts';

/**
 * An event whose JSON passes this size keeps its `data` in the RUN_PAYLOADS object store and
 * carries a claim to it: NATS messages are limited (max_payload, 1 MB by default) and a request
 * may legitimately be larger (long inputs, base64 images, many messages).
 */
export const EVENT_CLAIM_THRESHOLD_BYTES = 256 * 1024;

export type { PayloadClaim };
/** An event as stored in the log: its data, or a claim on it. */
export type StoredEventJson = RunEventMessage;

/**
 * The claim-check store for large event payloads (docs/run-path.md). Written before the event is
 * appended, so a reader that sees a claim always finds its payload; a payload whose append then
 * loses stays unreferenced (it is small in number and harmless).
 */
export class EventPayloads {
  private constructor(private readonly store: ObjectStore) {}

  static async open(js: JetStreamClient): Promise<EventPayloads> {
    return new EventPayloads(await new Objm(js).open(RUN_PAYLOADS_BUCKET));
  }

  /** The JSON to publish for `event`: as it is, or with its data moved to the store. */
  async encode(event: AnyRunEvent): Promise<string> {
    const json = JSON.stringify(event);
    if (Buffer.byteLength(json) <= EVENT_CLAIM_THRESHOLD_BYTES) return json;
    const data = Buffer.from(JSON.stringify(event.data));
    const claim: PayloadClaim = { name: event.id, size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    await this.store.putBlob({ name: claim.name }, data);
    return JSON.stringify({ ...event, data: null, claim });
  }

  /** The event with its data, fetched from the store if it carries a claim, and upcast and validated as the contract says. */
  async resolve(stored: StoredEventJson): Promise<AnyRunEvent> {
    if (!stored.claim) return stored;
    const { claim, ...event } = stored;
    const data = await this.store.getBlob(claim.name);
    if (!data) throw new Error(`payload ${claim.name} of ${event.type} #${event.seq} of ${event.runId} is missing from ${RUN_PAYLOADS_BUCKET}`);
    if (createHash('sha256').update(data).digest('hex') !== claim.sha256) throw new Error(`payload ${claim.name} does not match its claim`);
    return withRunEventData(stored, JSON.parse(Buffer.from(data).toString('utf8')));
  }
}
