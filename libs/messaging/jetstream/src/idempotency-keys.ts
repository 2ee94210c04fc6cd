import { Kvm, type KV } from '@nats-io/kv';
import type { JetStreamClient } from '@nats-io/jetstream';
import { IDEMPOTENCY_KEYS_BUCKET } from '@lrs/contracts';
import { isRevisionConflict } from './lane-store';

export type IdempotencyClaim = { ok: true } | { ok: false; runId: string };

/**
 * Idempotency-Key claims (a day in a JetStream KV bucket): the first request with a key records
 * the digest of its body; a later one with the same key and another body is refused. The run id
 * is derived from the key, so the same key and body find the run the first request created.
 */
export class IdempotencyKeys {
  private constructor(private readonly kv: KV) {}

  static async open(js: JetStreamClient): Promise<IdempotencyKeys> {
    return new IdempotencyKeys(await new Kvm(js).open(IDEMPOTENCY_KEYS_BUCKET));
  }

  /** `keyId` is a digest of the scope and the client's key (a valid KV key whatever the client sent). */
  async claim(keyId: string, bodyDigest: string, runId: string): Promise<IdempotencyClaim> {
    try {
      await this.kv.create(keyId, JSON.stringify({ bodyDigest, runId }));
      return { ok: true };
    } catch (error) {
      if (!isRevisionConflict(error)) throw error;
    }
    const entry = await this.kv.get(keyId);
    const claimed = entry && entry.operation === 'PUT' ? entry.json<{ bodyDigest: string; runId: string }>() : null;
    return !claimed || claimed.bodyDigest === bodyDigest ? { ok: true } : { ok: false, runId: claimed.runId };
  }
}
