import { Env } from '@lrs/config';
import { runReadModelMigrations } from '@lrs/read-model';

/** Applies pending read-model migrations (a Kubernetes Job / compose one-shot runs this before the services). */
async function main(): Promise<void> {
  const applied = await runReadModelMigrations(new Env().string('DATABASE_URL'));
  console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'read model is up to date');
}

main().catch((error) => {
  console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
