import { Env } from '@lrs/config';
import { EventPayloads, RunEventStore, connectJetStream } from '@lrs/jetstream';
import { createReadModelDataSource, rebuildRunTables } from '@lrs/read-model';

/**
 * `npm run read-model:rebuild`: recreates the read model's run tables (runs, steps, callback
 * attempts; messages restored) from the run event log in JetStream. Safe while the services run:
 * it works in one transaction that the projector and the run path wait for.
 */
async function main(): Promise<void> {
  const env = new Env();
  const startedAt = Date.now();
  const nats = await connectJetStream({ servers: env.string('NATS_URL', 'nats://127.0.0.1:4222'), name: 'read-model-rebuild' });
  const dataSource = await createReadModelDataSource({
    url: env.string('DATABASE_URL'),
    poolSize: 1,
    applicationName: 'read-model-rebuild',
    statementTimeoutMs: 0,
    preparedStatements: env.bool('DB_PREPARED_STATEMENTS', true),
  }).initialize();
  try {
    const result = await rebuildRunTables(dataSource, new RunEventStore(nats.js, nats.jsm, await EventPayloads.open(nats.js)));
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    console.log(`read model rebuilt from ${result.events} events (through stream sequence ${result.untilStreamSeq}): ${result.runs} runs, in ${seconds} s`);
  } finally {
    await dataSource.destroy();
    await nats.nc.drain();
  }
}

main().catch((error) => {
  console.error(`rebuild failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
