import { createHash } from 'node:crypto';
import { parseDirectives } from './directives';

/** Dimensions of the fake's embeddings when a request names none: text-embedding-3-small's. */
export const FAKE_EMBEDDING_DIMENSIONS = 1_536;

export type EmbeddingsRequest = { ok: true; model: string; inputs: string[]; dimensions: number } | { ok: false; message: string; param: string };

/** Reads an OpenAI embeddings request body: `input` a string or an array of strings, `dimensions` optional. */
export function readEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (typeof body !== 'object' || body === null) return { ok: false, message: 'The body must be a JSON object.', param: 'body' };
  const { model, input, dimensions } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') return { ok: false, message: 'you must provide a model parameter', param: 'model' };
  const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((item) => typeof item === 'string') ? (input as string[]) : null;
  if (!inputs || inputs.length === 0) return { ok: false, message: "'input' must be a non-empty string or array of strings", param: 'input' };
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || (dimensions as number) < 1 || (dimensions as number) > 4_096)) {
    return { ok: false, message: "'dimensions' must be an integer from 1 to 4096", param: 'dimensions' };
  }
  return { ok: true, model, inputs, dimensions: (dimensions as number | undefined) ?? FAKE_EMBEDDING_DIMENSIONS };
}

/**
 * A deterministic embedding that stands in for meaning: each word (lower-cased, a plural or -ing
 * or -ed ending cut) adds to a few hashed dimensions, and the vector is scaled to unit length.
 * Texts that share words are close, texts that share none are orthogonal, and the same text
 * always gets the same vector. Directives (`[fake:...]`) are left out.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const words = parseDirectives(text).text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) {
    const stem = word.length > 4 ? word.replace(/(ing|ed|es|s)$/u, '') : word;
    const digest = createHash('sha256').update(stem).digest();
    for (let k = 0; k < 3; k++) {
      const index = digest.readUInt32LE(k * 4) % dimensions;
      vector[index] += digest[16 + k] & 1 ? 1 : -1;
    }
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  // A text without words still gets a vector (OpenAI answers one for any input): the first axis.
  if (norm === 0) vector[0] = 1;
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

/** A digest of the inputs, for counting attempts at the same request (`[fake:fail=N]` in an input). */
export function inputsDigest(inputs: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}
