import type { DataSource } from 'typeorm';
import { VectorCollections, type StoredVector, type VectorIndexOptions, type VectorSource } from './vector-collections';

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

/** What the passage filter reads of each held passage. */
interface PassageMeta {
  createdAtMs: number;
  tags: readonly string[];
}

/**
 * Exact nearest-neighbour search over archives' passages in this process's memory (see
 * VectorCollections): an archive is a collection, kept fresh by its `generation` and its
 * passages' `seq`.
 */
export class VectorIndex {
  private readonly collections: VectorCollections<PassageMeta>;

  constructor(db: Pick<DataSource, 'query'>, options: VectorIndexOptions) {
    this.collections = new VectorCollections(passageVectors(db), options);
  }

  /** Bytes of vectors held now. */
  get heldBytes(): number {
    return this.collections.heldBytes;
  }

  /** The `k` passages of `archiveIds` most similar to `query` (a unit vector) that pass `filter`, best first. */
  async search(archiveIds: readonly string[], query: Float32Array, filter: PassageFilter, k: number): Promise<ScoredPassage[]> {
    const hits = await this.collections.search(archiveIds, query, filterOf(filter), k);
    return hits.map((hit) => ({ id: hit.id, archiveId: hit.collectionId, score: hit.score }));
  }

  /** Forgets an archive (it was deleted). */
  drop(archiveId: string): void {
    this.collections.drop(archiveId);
  }
}

function passageVectors(db: Pick<DataSource, 'query'>): VectorSource<PassageMeta> {
  return {
    async states(archiveIds) {
      const rows: { id: string; generation: number; max_seq: string; passage_count: number; embedding_dim: number | null }[] = await db.query(
        `SELECT a.id, a.generation, a.passage_count, a.embedding_dim, coalesce((SELECT max(seq) FROM passages p WHERE p.archive_id = a.id), 0) AS max_seq
         FROM archives a WHERE a.id = ANY ($1)`,
        [archiveIds],
      );
      return rows.map((row) => ({ id: row.id, generation: row.generation, maxSeq: Number(row.max_seq), count: row.passage_count, dim: row.embedding_dim }));
    },
    async rowsAfter(archiveId, afterSeq, limit) {
      const rows: { seq: string; id: string; created_at: Date; tags: string[]; embedding: Buffer; embedding_dim: number }[] = await db.query(
        `SELECT seq, id, created_at, tags, embedding, embedding_dim FROM passages WHERE archive_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [archiveId, afterSeq, limit],
      );
      return rows.map((row): StoredVector<PassageMeta> => ({
        seq: Number(row.seq),
        id: row.id,
        embedding: row.embedding,
        dim: row.embedding_dim,
        meta: { createdAtMs: row.created_at.getTime(), tags: row.tags },
      }));
    },
  };
}

/** The filter as a test of each passage; null when it lets every passage through. */
function filterOf(filter: PassageFilter): ((meta: PassageMeta) => boolean) | null {
  const wanted = filter.tags?.length ? [...new Set(filter.tags)] : null;
  const all = filter.tagMatchMode === 'all';
  const start = filter.startMs ?? Number.NEGATIVE_INFINITY;
  const end = filter.endMs ?? Number.POSITIVE_INFINITY;
  if (!wanted && start === Number.NEGATIVE_INFINITY && end === Number.POSITIVE_INFINITY) return null;
  return ({ tags, createdAtMs }) => {
    if (createdAtMs < start || createdAtMs > end) return false;
    if (!wanted) return true;
    return all ? wanted.every((tag) => tags.includes(tag)) : wanted.some((tag) => tags.includes(tag));
  };
}
