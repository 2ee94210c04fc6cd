/**
 * A process's short memory of what it did recently (a run's RunCreated it read, a work item it
 * published, a follow-up it completed): at most `capacity` entries, the oldest forgotten first.
 * Forgetting is always safe for its users; it only costs a read or a request again.
 */
export class BoundedMemory<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  /** The entry, forgotten as it is read. */
  take(key: K): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }
}
