import type { JetStreamClient } from '@nats-io/jetstream';
import { IDEMPOTENCY_KEYS_BUCKET } from '@lrs/contracts';
import { ConditionalBucket } from './kv-compare-and-set';

export type IdempotencyClaim = { ok: true } | { ok: false; runId: string };

/**
 * Idempotency-Key claims (a day in a JetStream KV bucket): the first request with a key records
 * the digest of its body; a later one with the same key and another body is refused. The run id
 * is derived from the key, so the same key and body find the run the first request created.
 */
export class IdempotencyKeys {
  private constructor(private readonly bucket: ConditionalBucket) {}

  static async open(js: JetStreamClient): Promise<IdempotencyKeys> {
    return new IdempotencyKeys(await ConditionalBucket.open(js, IDEMPOTENCY_KEYS_BUCKET));
  }

  /** `keyId` is a digest of the scope and the client's key (a valid KV key whatever the client sent). */
  async claim(keyId: string, bodyDigest: string, runId: string): Promise<IdempotencyClaim> {
    // Revision 0: only the first writer of the key succeeds (an expired claim leaves no entry).
    if (await this.bucket.compareAndSet(keyId, JSON.stringify({ bodyDigest, runId }), 0)) return { ok: true };
    const entry = await this.bucket.read(keyId);
    const claimed = entry.value ? (JSON.parse(entry.value) as { bodyDigest: string; runId: string }) : null;
    return !claimed || claimed.bodyDigest === bodyDigest ? { ok: true } : { ok: false, runId: claimed.runId };
  }
}
