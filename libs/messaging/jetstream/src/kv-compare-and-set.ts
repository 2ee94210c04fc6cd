import type { JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { publishAtPosition } from './publish-at-position';

/** The duplicate window provisioning gives the buckets written through ConditionalBucket. */
export const KV_DUPLICATE_WINDOW_MS = 20_000;

/**
 * A compare-and-set write held by another write of the same revision that never completed: the
 * write a lost stream leader had in flight, whose id JetStream remembers for the duplicate window
 * though nothing was stored. Neither a success nor a lost race: the caller fails and its message
 * is retried after the window (as PositionInDoubt is for run events).
 */
export class RevisionInDoubt extends Error {
  constructor(bucket: string, key: string, revision: number) {
    super(`${bucket}/${key}: the write after revision ${revision} did not complete; retrying after the duplicate window`);
  }
}

/** A key's current value and revision; revision 0 and a null value for a key with no entry. */
export interface Revisioned {
  value: string | null;
  revision: number;
}

/**
 * A JetStream KV bucket written only by compare-and-set, safely on a clustered bucket. The KV
 * client's `update` and `create` rely on the expected revision alone, which nats-server 2.9 before
 * 2.9.21 does not serialize on a replicated bucket: several writers holding the same revision all
 * succeeded, each overwriting the others (docs/scaling.md). Here the revision is also the message
 * id (`<key>@<revision>`, publishAtPosition), so one writer wins per revision; a writer whose own
 * earlier publish went through (its answer lost, the publish retried) finds its value there.
 */
export class ConditionalBucket {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

  static async open(js: JetStreamClient, bucket: string): Promise<ConditionalBucket> {
    // Bound without direct gets: reads go to the stream leader, never to a replica that lags.
    return new ConditionalBucket(js, await new Kvm(js).open(bucket), bucket);
  }

  async read(key: string): Promise<Revisioned> {
    const entry = await this.kv.get(key);
    if (!entry) return { value: null, revision: 0 };
    return { value: entry.operation === 'PUT' && entry.length > 0 ? entry.string() : null, revision: entry.revision };
  }

  /** Writes `value` if the key is still at `revision` (0: no entry yet); false when another writer moved it first. */
  async compareAndSet(key: string, value: string, revision: number): Promise<boolean> {
    const result = await publishAtPosition(this.js, `$KV.${this.bucket}.${key}`, value, { msgID: `${key}@${revision}`, lastSubjectSequence: revision });
    if (result.kind !== 'duplicate') return result.kind === 'stored';
    if (result.seq <= 0) throw new RevisionInDoubt(this.bucket, key, revision);
    const stored = await this.kv.get(key, { revision: result.seq });
    return stored !== null && stored.key === key && stored.string() === value;
  }
}
