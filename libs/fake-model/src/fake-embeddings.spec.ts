import { fakeEmbedding, readEmbeddingsRequest } from './fake-embeddings';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i], 0);

describe("the fake model's embeddings", () => {
  it('are unit vectors of the asked dimensions, the same for the same text', () => {
    const vector = fakeEmbedding('Ada drinks her coffee black', 256);
    expect(vector).toHaveLength(256);
    expect(cosine(vector, vector)).toBeCloseTo(1, 10);
    expect(fakeEmbedding('Ada drinks her coffee black', 256)).toEqual(vector);
  });

  it('put texts that share words closer than texts that share none, ignoring case, endings and directives', () => {
    const passage = fakeEmbedding('The launch rehearsal moved to Tuesday', 1536);
    const related = fakeEmbedding('when is the LAUNCH rehearsals? [fake:delay=5]', 1536);
    const unrelated = fakeEmbedding('my cat sleeps all afternoon', 1536);
    expect(cosine(passage, related)).toBeGreaterThan(0.3);
    expect(cosine(passage, related)).toBeGreaterThan(cosine(passage, unrelated) + 0.2);
  });

  it('give a text without words a vector too', () => {
    expect(fakeEmbedding('  !!! ', 8)).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('read requests as OpenAI takes them, and refuse what it refuses', () => {
    expect(readEmbeddingsRequest({ model: 'text-embedding-3-small', input: 'x' })).toEqual({ ok: true, model: 'text-embedding-3-small', inputs: ['x'], dimensions: 1536 });
    expect(readEmbeddingsRequest({ model: 'm', input: ['a', 'b'], dimensions: 16 })).toMatchObject({ ok: true, inputs: ['a', 'b'], dimensions: 16 });
    expect(readEmbeddingsRequest({ input: 'x' })).toMatchObject({ ok: false, param: 'model' });
    expect(readEmbeddingsRequest({ model: 'm', input: [1] })).toMatchObject({ ok: false, param: 'input' });
    expect(readEmbeddingsRequest({ model: 'm', input: [] })).toMatchObject({ ok: false, param: 'input' });
    expect(readEmbeddingsRequest({ model: 'm', input: 'x', dimensions: 0 })).toMatchObject({ ok: false, param: 'dimensions' });
    expect(readEmbeddingsRequest('nope')).toMatchObject({ ok: false });
  });
});
