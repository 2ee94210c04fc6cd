import { DataSource } from 'typeorm';
import { newId } from '@lrs/contracts';
import { createReadModelDataSource } from '@lrs/read-model';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { PassageStore, type ArchiveRow, type NewPassage } from './passage-store';
import { VectorIndex } from './vector-index';
import { unitVector } from './vectors';

const ORG = 'org-00000000-0000-4000-8000-000000000000';
const DIM = 64;

/** A seeded generator, so every failure reproduces. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296 - 0.5;
  };
}

/**
 * The vector index against a real Postgres: its answers equal an exact scan computed here, it
 * sees inserts and deletions made after it loaded an archive, keeps to its memory bound, and an
 * archive larger than the bound is scanned from Postgres with the same results.
 */
describe('archival vector index on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: PassageStore;
  const next = random(7);
  const vector = () => unitVector(Array.from({ length: DIM }, next));

  const archiveWith = async (count: number, extra: (index: number) => Partial<NewPassage> = () => ({})) => {
    const archive = await store.createArchive(ORG, { name: `a-${newId('archive')}`, description: null, embeddingModel: 'openai/text-embedding-3-small', metadata: null });
    const passages = Array.from({ length: count }, (_, index): NewPassage => ({ id: newId('passage'), text: `p${index}`, tags: [], createdAt: new Date(Date.UTC(2026, 0, 1) + index * 60_000), embedding: vector(), ...extra(index) }));
    await insert(archive, passages);
    return { archive, passages };
  };
  const insert = (archive: ArchiveRow, passages: NewPassage[]) =>
    dataSource.transaction(async (manager) => PassageStore.insert(manager, (await PassageStore.lockArchive(manager, ORG, archive.id))!, { agentId: null }, passages));
  const exact = (passages: NewPassage[], query: Float32Array, k: number) =>
    passages
      .map((passage) => ({ id: passage.id, score: passage.embedding.reduce((sum, value, i) => sum + value * query[i], 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k)
      .map((hit) => hit.id);

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    store = new PassageStore(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('ranks exactly as a full scan would, across archives, and sees passages inserted and deleted after it loaded', async () => {
    const index = new VectorIndex(dataSource, { maxBytes: 64 * 1024 * 1024, loadBatch: 100, scanSlice: 50 });
    const first = await archiveWith(700);
    const second = await archiveWith(300);
    const query = vector();
    const hits = await index.search([first.archive.id, second.archive.id], query, {}, 10);
    expect(hits.map((hit) => hit.id)).toEqual(exact([...first.passages, ...second.passages], query, 10));
    expect(hits[0].score).toBeGreaterThanOrEqual(hits[9].score);

    // A passage right on the query, inserted after the index loaded the archive, comes first.
    const onQuery: NewPassage = { id: newId('passage'), text: 'on the query', tags: [], createdAt: new Date(), embedding: query };
    await insert(first.archive, [onQuery]);
    const again = await index.search([first.archive.id], query, {}, 3);
    expect(again[0]).toMatchObject({ id: onQuery.id, archiveId: first.archive.id });
    expect(again[0].score).toBeCloseTo(1, 5);

    // Deleted: the archive's generation moves on and the index loads it again without it.
    expect(await store.delete(ORG, onQuery.id, { archiveId: first.archive.id })).toBe(true);
    expect((await index.search([first.archive.id], query, {}, 3)).map((hit) => hit.id)).toEqual(exact(first.passages, query, 3));
  });

  it('filters by tags (any or all) and by creation time, inclusive', async () => {
    const index = new VectorIndex(dataSource, { maxBytes: 64 * 1024 * 1024 });
    const tags = [['a'], ['b'], ['a', 'b'], []];
    const { archive, passages } = await archiveWith(40, (i) => ({ tags: tags[i % 4] }));
    const query = vector();
    const ids = async (filter: Parameters<VectorIndex['search']>[2]) => new Set((await index.search([archive.id], query, filter, 100)).map((hit) => hit.id));
    const having = (predicate: (p: NewPassage, i: number) => boolean) => new Set(passages.filter(predicate).map((p) => p.id));
    expect(await ids({ tags: ['a'], tagMatchMode: 'any' })).toEqual(having((p) => p.tags.includes('a')));
    expect(await ids({ tags: ['a', 'b'], tagMatchMode: 'any' })).toEqual(having((p) => p.tags.length > 0));
    expect(await ids({ tags: ['a', 'b'], tagMatchMode: 'all' })).toEqual(having((p) => p.tags.length === 2));
    const start = passages[10].createdAt.getTime();
    const end = passages[19].createdAt.getTime();
    expect(await ids({ startMs: start, endMs: end })).toEqual(having((_, i) => i >= 10 && i <= 19));
  });

  it('keeps to its memory bound: the least recently searched archive goes, and one larger than the bound is scanned from Postgres', async () => {
    const perArchive = 200 * DIM * 4;
    const index = new VectorIndex(dataSource, { maxBytes: Math.floor(perArchive * 1.5), loadBatch: 64 });
    const [a, b] = [await archiveWith(200), await archiveWith(200)];
    const query = vector();
    await index.search([a.archive.id], query, {}, 5);
    expect(index.heldBytes).toBeGreaterThan(0);
    const fromB = await index.search([b.archive.id], query, {}, 5);
    expect(fromB.map((hit) => hit.id)).toEqual(exact(b.passages, query, 5));
    expect(index.heldBytes).toBeLessThanOrEqual(Math.floor(perArchive * 1.5));

    const big = await archiveWith(400);
    const held = index.heldBytes;
    const fromBig = await index.search([big.archive.id], query, {}, 7);
    expect(fromBig.map((hit) => hit.id)).toEqual(exact(big.passages, query, 7));
    // Scanned batch by batch, never kept.
    expect(index.heldBytes).toBe(held);
  });

  it("skips passages whose dimensions are not the query's", async () => {
    const index = new VectorIndex(dataSource, { maxBytes: 64 * 1024 * 1024 });
    const { archive } = await archiveWith(5);
    expect(await index.search([archive.id], unitVector([1, 0, 0]), {}, 5)).toEqual([]);
  });
});
