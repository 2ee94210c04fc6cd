import { endianness } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { TopK, dotAt } from './vectors';

/** Where a collection stands in Postgres: what a held copy must match to be used as it is. */
export interface CollectionState {
  id: string;
  /** Moves on whenever a vector of the collection is deleted. */
  generation: number;
  /** Newest `seq` of the collection's vectors (0 when it has none). */
  maxSeq: number;
  /** How many vectors (an estimate is enough: it decides between holding and scanning). */
  count: number;
  /** Dimensions of its vectors, when known; a collection of other dimensions than the query's is skipped. */
  dim: number | null;
}

/** One stored vector (float32 little-endian bytes) with what filters need. */
export interface StoredVector<Meta> {
  seq: number;
  id: string;
  embedding: Buffer;
  dim: number;
  meta: Meta;
}

/** How a kind of stored vectors is read from Postgres (passages of archives, messages of an organization). */
export interface VectorSource<Meta> {
  states(collectionIds: readonly string[]): Promise<CollectionState[]>;
  /** Vectors of the collection with `seq` past `afterSeq`, in `seq` order, at most `limit`. */
  rowsAfter(collectionId: string, afterSeq: number, limit: number): Promise<StoredVector<Meta>[]>;
}

export interface ScoredVector {
  id: string;
  collectionId: string;
  score: number;
}

export interface VectorIndexOptions {
  /** Most bytes of vectors held in memory across collections; past it the least recently searched go. */
  maxBytes: number;
  /** Rows read from Postgres at a time while loading. */
  loadBatch?: number;
  /** Vectors scored between two yields to the event loop, so a long scan never holds other work. */
  scanSlice?: number;
}

/** One collection's vectors as held: row-major, with each row's id and filter data. */
interface HeldVectors<Meta> {
  collectionId: string;
  generation: number;
  maxSeq: number;
  dim: number;
  count: number;
  vectors: Float32Array;
  ids: string[];
  metas: Meta[];
  lastUsed: number;
}

if (endianness() !== 'LE') throw new Error('the vector index reads float32 little-endian vectors and needs a little-endian host');

/**
 * Exact nearest-neighbour search over collections of stored vectors, in this process's memory:
 * every vector of the collections searched is scored (a dot product of unit vectors is their
 * cosine similarity), so results are the same whatever the deployment, with no extension in
 * Postgres. A collection is loaded from Postgres on first use and kept; each search asks the
 * source (one indexed query) where collections stand and loads only what is new; a deletion moves
 * a collection's generation on and it is loaded again. Memory is bounded (`maxBytes`): least
 * recently searched collections go first, and one larger than the bound alone is scanned from
 * Postgres batch by batch instead of kept. A scan yields to the event loop every `scanSlice` vectors.
 */
export class VectorCollections<Meta> {
  private readonly held = new Map<string, HeldVectors<Meta>>();
  private readonly loading = new Map<string, Promise<HeldVectors<Meta> | null>>();
  private readonly loadBatch: number;
  private readonly scanSlice: number;

  constructor(
    private readonly source: VectorSource<Meta>,
    private readonly options: VectorIndexOptions,
  ) {
    this.loadBatch = options.loadBatch ?? 2_000;
    this.scanSlice = options.scanSlice ?? 4_096;
  }

  /** Bytes of vectors held now. */
  get heldBytes(): number {
    let bytes = 0;
    for (const collection of this.held.values()) bytes += collection.vectors.byteLength;
    return bytes;
  }

  /** The `k` vectors of the collections most similar to `query` (a unit vector) that `accept` lets through (null: all), best first. */
  async search(collectionIds: readonly string[], query: Float32Array, accept: ((meta: Meta) => boolean) | null, k: number): Promise<ScoredVector[]> {
    const top = new TopK<{ id: string; collectionId: string }>(k);
    const states = collectionIds.length ? await this.source.states(collectionIds) : [];
    for (const state of states) {
      if (state.dim !== null && state.dim !== query.length) continue;
      if (state.count * query.length * 4 > this.options.maxBytes) {
        await this.scanFromPostgres(state.id, query, accept, top);
        continue;
      }
      const collection = await this.fresh(state, query.length);
      if (collection) await this.scan(collection, query, accept, top);
    }
    this.evict(new Set(collectionIds));
    return top.best().map(({ score, item }) => ({ ...item, score }));
  }

  /** Forgets a collection (it was deleted). */
  drop(collectionId: string): void {
    this.held.delete(collectionId);
  }

  private async fresh(state: CollectionState, dim: number): Promise<HeldVectors<Meta> | null> {
    const held = this.held.get(state.id);
    const current = held && held.generation === state.generation && held.dim === dim ? held : null;
    if (current && current.maxSeq >= state.maxSeq) {
      current.lastUsed = Date.now();
      return current;
    }
    // One load at a time per collection; a search arriving meanwhile waits for it.
    const pending = this.loading.get(state.id);
    if (pending) return pending;
    const load = this.load(current, state.id, state.generation, dim).finally(() => this.loading.delete(state.id));
    this.loading.set(state.id, load);
    return load;
  }

  private async load(base: HeldVectors<Meta> | null, collectionId: string, generation: number, dim: number): Promise<HeldVectors<Meta>> {
    const collection = base ?? emptyVectors<Meta>(collectionId, generation, dim);
    for (;;) {
      const rows = await this.source.rowsAfter(collectionId, collection.maxSeq, this.loadBatch);
      for (const row of rows) {
        collection.maxSeq = row.seq;
        if (row.dim === dim) append(collection, row);
      }
      if (rows.length < this.loadBatch) break;
    }
    // Growth by doubling may leave up to half the matrix unused: a loaded collection keeps only what it holds.
    if (collection.vectors.length > collection.count * collection.dim * 1.25) collection.vectors = collection.vectors.slice(0, collection.count * collection.dim);
    collection.lastUsed = Date.now();
    this.held.set(collectionId, collection);
    return collection;
  }

  private async scan(collection: HeldVectors<Meta>, query: Float32Array, accept: ((meta: Meta) => boolean) | null, top: TopK<{ id: string; collectionId: string }>): Promise<void> {
    for (let start = 0; start < collection.count; start += this.scanSlice) {
      const end = Math.min(collection.count, start + this.scanSlice);
      let floor = top.floor;
      for (let i = start; i < end; i++) {
        if (accept !== null && !accept(collection.metas[i])) continue;
        const score = dotAt(collection.vectors, i, query);
        if (score < floor) continue;
        top.offer(score, { id: collection.ids[i], collectionId: collection.collectionId });
        floor = top.floor;
      }
      if (end < collection.count) await yieldToEventLoop();
    }
  }

  private async scanFromPostgres(collectionId: string, query: Float32Array, accept: ((meta: Meta) => boolean) | null, top: TopK<{ id: string; collectionId: string }>): Promise<void> {
    let afterSeq = 0;
    for (;;) {
      const rows = await this.source.rowsAfter(collectionId, afterSeq, this.loadBatch);
      const batch = emptyVectors<Meta>(collectionId, 0, query.length);
      for (const row of rows) {
        afterSeq = row.seq;
        if (row.dim === query.length) append(batch, row);
      }
      await this.scan(batch, query, accept, top);
      if (rows.length < this.loadBatch) return;
    }
  }

  /** Least recently searched collections go until the held vectors fit; those of the current search stay. */
  private evict(inUse: Set<string>): void {
    let bytes = this.heldBytes;
    if (bytes <= this.options.maxBytes) return;
    const byAge = [...this.held.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    for (const collection of byAge) {
      if (bytes <= this.options.maxBytes) break;
      if (inUse.has(collection.collectionId) && byAge.length > 1) continue;
      this.held.delete(collection.collectionId);
      bytes -= collection.vectors.byteLength;
    }
  }
}

function emptyVectors<Meta>(collectionId: string, generation: number, dim: number): HeldVectors<Meta> {
  return { collectionId, generation, maxSeq: 0, dim, count: 0, vectors: new Float32Array(0), ids: [], metas: [], lastUsed: 0 };
}

function append<Meta>(collection: HeldVectors<Meta>, row: StoredVector<Meta>): void {
  const { dim } = collection;
  if (collection.count * dim >= collection.vectors.length) {
    const vectors = new Float32Array(Math.max(64, collection.count * 2) * dim);
    vectors.set(collection.vectors.subarray(0, collection.count * dim));
    collection.vectors = vectors;
  }
  // The driver's buffer may start at any byte: a copy of its bytes is aligned for a float view.
  const bytes = row.embedding;
  collection.vectors.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + dim * 4)), collection.count * dim);
  collection.ids[collection.count] = row.id;
  collection.metas[collection.count] = row.meta;
  collection.count++;
}
