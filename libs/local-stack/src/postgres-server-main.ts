import { startEmbeddedPostgres } from './postgres';

/**
 * `node postgres-server-main.js <data dir> <port>`: an embedded Postgres as a process of its own,
 * for tests that stop and restart the database (test runners cannot load the package's ES module
 * in process). Prints `ready <admin url>` once it accepts connections; SIGTERM stops it cleanly.
 */
async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: postgres-server-main <data dir> <port>');
  const postgres = await startEmbeddedPostgres({ dataDir, port: Number(port) });
  console.log(`ready ${postgres.adminUrl}`);
  const stop = () => void postgres.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
