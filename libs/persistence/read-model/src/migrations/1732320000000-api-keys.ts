import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizations and their API keys (README, "Authentication"). A key is stored as its SHA-256 (the
 * key itself is shown once, when it is made) with a short visible prefix to find it by. Also an
 * index for counting an organization's runs in flight.
 */
export class ApiKeys1732320000000 implements MigrationInterface {
  name = 'ApiKeys1732320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE organizations (
        id text PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        organization_id text NOT NULL REFERENCES organizations (id),
        name text NOT NULL,
        prefix text NOT NULL,
        secret_sha256 text NOT NULL UNIQUE,
        admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_keys_prefix_idx ON api_keys (prefix)`);
    // The per-organization cap on runs in flight counts these.
    await queryRunner.query(`CREATE INDEX runs_org_active_idx ON runs (organization_id) WHERE status IN ('created', 'running') AND deleted_at IS NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS runs_org_active_idx`);
    await queryRunner.query(`DROP TABLE api_keys`);
    await queryRunner.query(`DROP TABLE organizations`);
  }
}
