/**
 * Embeddings as stored: float32, little-endian, scaled to unit length, so that a dot product is
 * the cosine similarity. 1,536 dimensions take 6 KiB a passage.
 */
export function unitVector(values: readonly number[]): Float32Array {
  const vector = Float32Array.from(values);
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
  norm = Math.sqrt(norm);
  if (norm > 0 && Number.isFinite(norm)) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}

/** The bytes stored for a vector (the host is little-endian; the index checks it). */
export function vectorToBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/**
 * Dot product of `query` with the `index`-th vector of a row-major matrix of `dim` columns, in
 * four running sums: independent additions the CPU overlaps (twice as fast as one sum here).
 */
export function dotAt(matrix: Float32Array, index: number, query: Float32Array): number {
  const dim = query.length;
  const base = index * dim;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += matrix[base + i] * query[i];
    s1 += matrix[base + i + 1] * query[i + 1];
    s2 += matrix[base + i + 2] * query[i + 2];
    s3 += matrix[base + i + 3] * query[i + 3];
  }
  for (; i < dim; i++) s0 += matrix[base + i] * query[i];
  return s0 + s1 + s2 + s3;
}

/** The best `k` of scored items, best first (ties: the later one, i.e. the newer passage, first). */
export class TopK<T> {
  private readonly items: { score: number; item: T }[] = [];

  constructor(private readonly k: number) {}

  /** The score an item must beat to enter. */
  get floor(): number {
    return this.items.length < this.k ? Number.NEGATIVE_INFINITY : this.items[this.items.length - 1].score;
  }

  offer(score: number, item: T): void {
    if (this.k <= 0 || score < this.floor) return;
    let at = this.items.length;
    while (at > 0 && this.items[at - 1].score <= score) at--;
    this.items.splice(at, 0, { score, item });
    if (this.items.length > this.k) this.items.pop();
  }

  best(): { score: number; item: T }[] {
    return [...this.items];
  }
}
