import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { dropDatabase, ensureDatabase } from '@lrs/local-stack';
import { runReadModelMigrations } from '@lrs/read-model';

/** Admin connection to the machine's Postgres; every test file gets a fresh database on it. */
export const TEST_DATABASE_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? `postgres://${process.env.PGUSER ?? userInfo().username}@127.0.0.1:5432/postgres`;

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `lrs_test_${randomBytes(6).toString('hex')}`;
  const url = await ensureDatabase(TEST_DATABASE_ADMIN_URL, name);
  await runReadModelMigrations(url);
  return { url, name, drop: () => dropDatabase(TEST_DATABASE_ADMIN_URL, name) };
}
