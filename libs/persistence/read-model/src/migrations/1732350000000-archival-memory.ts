import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Archival memory: archives of passages, each passage with its embedding (float32, little-endian,
 * unit length) and the model and dimensions that made it. An archive is shared by the agents
 * attached to it; an agent's own archive is made on its first insert. `seq` orders passages for
 * the in-process vector index, which loads what is new since it last looked; `generation` moves on
 * every deletion, so an index throws away what it holds of the archive and loads it again.
 */
export class ArchivalMemory1732350000000 implements MigrationInterface {
  name = 'ArchivalMemory1732350000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE archives (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        name text NOT NULL,
        description text,
        embedding_model text NOT NULL,
        embedding_dim integer,
        metadata jsonb,
        owner_agent_id text REFERENCES agents (id) ON DELETE SET NULL,
        passage_count integer NOT NULL DEFAULT 0,
        generation integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX archives_organization ON archives (organization_id, created_at, id)`);
    await queryRunner.query(`CREATE UNIQUE INDEX archives_owner ON archives (owner_agent_id) WHERE owner_agent_id IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE archive_agents (
        archive_id text NOT NULL REFERENCES archives (id) ON DELETE CASCADE,
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        PRIMARY KEY (agent_id, archive_id)
      )`);
    await queryRunner.query(`CREATE INDEX archive_agents_archive ON archive_agents (archive_id)`);
    await queryRunner.query(`
      CREATE TABLE passages (
        seq bigserial UNIQUE,
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        archive_id text NOT NULL REFERENCES archives (id) ON DELETE CASCADE,
        text text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        metadata jsonb,
        embedding bytea NOT NULL,
        embedding_model text NOT NULL,
        embedding_dim integer NOT NULL,
        agent_id text,
        run_id text,
        step_id text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX passages_archive_seq ON passages (archive_id, seq)`);
    await queryRunner.query(`CREATE INDEX passages_archive_created ON passages (archive_id, created_at, id)`);
    await queryRunner.query(`CREATE INDEX passages_step ON passages (step_id) WHERE step_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE passages`);
    await queryRunner.query(`DROP TABLE archive_agents`);
    await queryRunner.query(`DROP TABLE archives`);
  }
}
