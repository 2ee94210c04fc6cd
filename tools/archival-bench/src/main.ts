import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { newId } from '@lrs/contracts';
import { PassageStore, VectorIndex, unitVector, type NewPassage } from '@lrs/archival-memory';
import { createReadModelDataSource } from '@lrs/read-model';
import { createTestDatabase } from '@lrs/testing';

/**
 * Archival search figures: one archive of N passages (1,536-dimension vectors, as
 * text-embedding-3-small makes), stored in a fresh Postgres database, searched through the vector
 * index the llm-worker uses. Reports the first search (the index loads the archive from Postgres)
 * apart from warm searches' p50 and p99, and the memory the index holds. The query's embedding (a
 * model call) is not included: it costs the same at any size. Usage:
 *   npm run bench:archival -- --sizes 1000,10000,100000 --searches 100
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,100000' }, searches: { type: 'string', default: '100' }, dim: { type: 'string', default: '1536' }, k: { type: 'string', default: '10' } } });
  const sizes = values.sizes.split(',').map(Number);
  const searches = Number(values.searches);
  const dim = Number(values.dim);
  const k = Number(values.k);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ${dim} dimensions, top ${k}, ${searches} searches per size`);
  const database = await createTestDatabase();
  const dataSource = await createReadModelDataSource({ url: database.url, statementTimeoutMs: 0 }).initialize();
  try {
    const store = new PassageStore(dataSource);
    let seed = 1;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31 - 0.5;
    };
    const vector = () => unitVector(Array.from({ length: dim }, random));
    const rows: string[] = [];
    for (const size of sizes) {
      const archive = await store.createArchive(database.name, { name: `bench ${size}`, description: null, embeddingModel: 'openai/text-embedding-3-small', metadata: null });
      const insertStarted = performance.now();
      for (let done = 0; done < size; done += 1_000) {
        const batch: NewPassage[] = Array.from({ length: Math.min(1_000, size - done) }, (_, i) => ({
          id: newId('passage'),
          text: `passage ${done + i}`,
          tags: [`t${(done + i) % 10}`],
          createdAt: new Date(Date.UTC(2026, 0, 1) + (done + i) * 1_000),
          embedding: vector(),
        }));
        await dataSource.transaction(async (manager) => PassageStore.insert(manager, (await PassageStore.lockArchive(manager, database.name, archive.id))!, { agentId: null }, batch));
      }
      const insertSeconds = (performance.now() - insertStarted) / 1000;
      const index = new VectorIndex(dataSource, { maxBytes: 4 * 2 ** 30 });
      const rssBefore = process.memoryUsage().rss;
      const coldStarted = performance.now();
      await index.search([archive.id], vector(), {}, k);
      const coldMs = performance.now() - coldStarted;
      const timings: number[] = [];
      for (let i = 0; i < searches; i++) {
        const started = performance.now();
        await index.search([archive.id], vector(), i % 4 === 0 ? { tags: ['t3'] } : {}, k);
        timings.push(performance.now() - started);
      }
      timings.sort((a, b) => a - b);
      const at = (q: number) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))];
      const row = `${String(size).padStart(7)} passages: p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms warm; first search (loads from Postgres) ${coldMs.toFixed(0)} ms; index holds ${(index.heldBytes / 2 ** 20).toFixed(1)} MiB (RSS +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)} MiB); insert ${(size / insertSeconds).toFixed(0)} passages/s`;
      console.log(row);
      rows.push(row);
      index.drop(archive.id);
    }
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
