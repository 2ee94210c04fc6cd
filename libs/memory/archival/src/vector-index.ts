import { endianness } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { TopK, dotAt } from './vectors';

/** Which passages a search may return, besides their archive. */
export interface PassageFilter {
  tags?: readonly string[] | null;
  tagMatchMode?: 'any' | 'all';
  /** Inclusive bounds on the passage's created_at. */
  startMs?: number | null;
  endMs?: number | null;
}

export interface ScoredPassage {
  id: string;
  archiveId: string;
  score: number;
}

export interface VectorIndexOptions {
  /** Most bytes of vectors held in memory across archives; past it the least recently searched go. */
  maxBytes: number;
  /** Rows read from Postgres at a time while loading. */
  loadBatch?: number;
  /** Vectors scored between two yields to the event loop, so a long scan never holds other work. */
  scanSlice?: number;
}

/** One archive's passages as the index holds them: vectors row-major, and what filters need. */
interface ArchiveVectors {
  archiveId: string;
  generation: number;
  maxSeq: number;
  dim: number;
  count: number;
  vectors: Float32Array;
  ids: string[];
  createdAtMs: Float64Array;
  tags: (readonly string[])[];
  lastUsed: number;
}

interface PassageRow {
  seq: string;
  id: string;
  created_at: Date;
  tags: string[];
  embedding: Buffer;
  embedding_dim: number;
}

if (endianness() !== 'LE') throw new Error('the archival vector index reads float32 little-endian vectors and needs a little-endian host');

/**
 * Exact nearest-neighbour search over archives' passages, in this process's memory: every vector
 * of the archives searched is scored (a dot product of unit vectors is their cosine similarity),
 * so results are the same whatever the deployment, with no extension in Postgres. The vectors are
 * loaded from Postgres on first use and kept; each search asks Postgres (one indexed query) what
 * is new since, and loads only that; a deletion moves the archive's generation on and the archive
 * is loaded again. Memory is bounded (`maxBytes`): least recently searched archives go first, and
 * an archive larger than the bound alone is scanned from Postgres batch by batch instead of kept.
 * A scan yields to the event loop every `scanSlice` vectors.
 */
export class VectorIndex {
  private readonly archives = new Map<string, ArchiveVectors>();
  private readonly loading = new Map<string, Promise<ArchiveVectors | null>>();
  private readonly loadBatch: number;
  private readonly scanSlice: number;

  constructor(
    private readonly db: Pick<DataSource, 'query'>,
    private readonly options: VectorIndexOptions,
  ) {
    this.loadBatch = options.loadBatch ?? 2_000;
    this.scanSlice = options.scanSlice ?? 4_096;
  }

  /** Bytes of vectors held now. */
  get heldBytes(): number {
    let bytes = 0;
    for (const archive of this.archives.values()) bytes += archive.vectors.byteLength;
    return bytes;
  }

  /** The `k` passages of `archiveIds` most similar to `query` (a unit vector) that pass `filter`, best first. */
  async search(archiveIds: readonly string[], query: Float32Array, filter: PassageFilter, k: number): Promise<ScoredPassage[]> {
    const top = new TopK<{ id: string; archiveId: string }>(k);
    const matches = filterOf(filter);
    const states: { id: string; generation: number; max_seq: string; passage_count: number; embedding_dim: number | null }[] = archiveIds.length
      ? await this.db.query(
          `SELECT a.id, a.generation, a.passage_count, a.embedding_dim, coalesce((SELECT max(seq) FROM passages p WHERE p.archive_id = a.id), 0) AS max_seq
           FROM archives a WHERE a.id = ANY ($1)`,
          [archiveIds],
        )
      : [];
    for (const state of states) {
      if (state.embedding_dim !== null && state.embedding_dim !== query.length) continue;
      const estimate = state.passage_count * query.length * 4;
      if (estimate > this.options.maxBytes) {
        await this.scanFromPostgres(state.id, query, matches, top);
        continue;
      }
      const archive = await this.fresh(state.id, state.generation, Number(state.max_seq), query.length);
      if (archive) await this.scan(archive, query, matches, top);
    }
    this.evict(new Set(archiveIds));
    return top.best().map(({ score, item }) => ({ ...item, score }));
  }

  /** Forgets an archive (it was deleted). */
  drop(archiveId: string): void {
    this.archives.delete(archiveId);
  }

  private async fresh(archiveId: string, generation: number, maxSeq: number, dim: number): Promise<ArchiveVectors | null> {
    const held = this.archives.get(archiveId);
    if (held && held.generation === generation && held.dim === dim && held.maxSeq >= maxSeq) {
      held.lastUsed = Date.now();
      return held;
    }
    // One load at a time per archive; a search arriving meanwhile waits for it.
    const pending = this.loading.get(archiveId);
    if (pending) return pending;
    const load = this.load(held && held.generation === generation && held.dim === dim ? held : null, archiveId, generation, dim).finally(() => this.loading.delete(archiveId));
    this.loading.set(archiveId, load);
    return load;
  }

  private async load(base: ArchiveVectors | null, archiveId: string, generation: number, dim: number): Promise<ArchiveVectors> {
    const archive: ArchiveVectors = base ?? { archiveId, generation, maxSeq: 0, dim, count: 0, vectors: new Float32Array(0), ids: [], createdAtMs: new Float64Array(0), tags: [], lastUsed: 0 };
    for (;;) {
      const rows = await this.rowsAfter(archiveId, archive.maxSeq);
      for (const row of rows) {
        archive.maxSeq = Number(row.seq);
        if (row.embedding_dim !== dim) continue;
        append(archive, row);
      }
      if (rows.length < this.loadBatch) break;
    }
    // Growth by doubling may leave up to half the matrix unused: a loaded archive keeps only what it holds.
    if (archive.vectors.length > archive.count * archive.dim * 1.25) {
      archive.vectors = archive.vectors.slice(0, archive.count * archive.dim);
      archive.createdAtMs = archive.createdAtMs.slice(0, archive.count);
    }
    archive.lastUsed = Date.now();
    this.archives.set(archiveId, archive);
    return archive;
  }

  private rowsAfter(archiveId: string, afterSeq: number): Promise<PassageRow[]> {
    return this.db.query(
      `SELECT seq, id, created_at, tags, embedding, embedding_dim FROM passages WHERE archive_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [archiveId, afterSeq, this.loadBatch],
    );
  }

  private async scan(archive: ArchiveVectors, query: Float32Array, matches: ((tags: readonly string[], createdAtMs: number) => boolean) | null, top: TopK<{ id: string; archiveId: string }>): Promise<void> {
    for (let start = 0; start < archive.count; start += this.scanSlice) {
      const end = Math.min(archive.count, start + this.scanSlice);
      let floor = top.floor;
      for (let i = start; i < end; i++) {
        if (matches !== null && !matches(archive.tags[i], archive.createdAtMs[i])) continue;
        const score = dotAt(archive.vectors, i, query);
        if (score < floor) continue;
        top.offer(score, { id: archive.ids[i], archiveId: archive.archiveId });
        floor = top.floor;
      }
      if (end < archive.count) await yieldToEventLoop();
    }
  }

  private async scanFromPostgres(archiveId: string, query: Float32Array, matches: ((tags: readonly string[], createdAtMs: number) => boolean) | null, top: TopK<{ id: string; archiveId: string }>): Promise<void> {
    let afterSeq = 0;
    for (;;) {
      const rows = await this.rowsAfter(archiveId, afterSeq);
      const batch: ArchiveVectors = { archiveId, generation: 0, maxSeq: 0, dim: query.length, count: 0, vectors: new Float32Array(0), ids: [], createdAtMs: new Float64Array(0), tags: [], lastUsed: 0 };
      for (const row of rows) {
        afterSeq = Number(row.seq);
        if (row.embedding_dim === query.length) append(batch, row);
      }
      await this.scan(batch, query, matches, top);
      if (rows.length < this.loadBatch) return;
    }
  }

  /** Least recently searched archives go until the held vectors fit; those of the current search stay. */
  private evict(inUse: Set<string>): void {
    let bytes = this.heldBytes;
    if (bytes <= this.options.maxBytes) return;
    const byAge = [...this.archives.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    for (const archive of byAge) {
      if (bytes <= this.options.maxBytes) break;
      if (inUse.has(archive.archiveId) && byAge.length > 1) continue;
      this.archives.delete(archive.archiveId);
      bytes -= archive.vectors.byteLength;
    }
  }
}

function append(archive: ArchiveVectors, row: PassageRow): void {
  const { dim } = archive;
  if (archive.count * dim >= archive.vectors.length) {
    const capacity = Math.max(64, archive.count * 2);
    const vectors = new Float32Array(capacity * dim);
    vectors.set(archive.vectors.subarray(0, archive.count * dim));
    archive.vectors = vectors;
    const createdAtMs = new Float64Array(capacity);
    createdAtMs.set(archive.createdAtMs.subarray(0, archive.count));
    archive.createdAtMs = createdAtMs;
  }
  // The driver's buffer may start at any byte: a copy of its bytes is aligned for a float view.
  const bytes = row.embedding;
  archive.vectors.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + dim * 4)), archive.count * dim);
  archive.createdAtMs[archive.count] = row.created_at.getTime();
  archive.ids[archive.count] = row.id;
  archive.tags[archive.count] = row.tags;
  archive.count++;
}

/** The filter as a test of each passage; null when it lets every passage through. */
function filterOf(filter: PassageFilter): ((tags: readonly string[], createdAtMs: number) => boolean) | null {
  const wanted = filter.tags?.length ? [...new Set(filter.tags)] : null;
  const all = filter.tagMatchMode === 'all';
  const start = filter.startMs ?? Number.NEGATIVE_INFINITY;
  const end = filter.endMs ?? Number.POSITIVE_INFINITY;
  if (!wanted && start === Number.NEGATIVE_INFINITY && end === Number.POSITIVE_INFINITY) return null;
  return (tags, createdAtMs) => {
    if (createdAtMs < start || createdAtMs > end) return false;
    if (!wanted) return true;
    return all ? wanted.every((tag) => tags.includes(tag)) : wanted.some((tag) => tags.includes(tag));
  };
}
