import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Conversations: independent message threads of one agent, each with its own run lane. */
export class Conversations1732270000000 implements MigrationInterface {
  name = 'Conversations1732270000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE conversations (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        summary text,
        model text,
        isolated_block_labels text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX conversations_agent_created_idx ON conversations (agent_id, created_at, id)`);
    await queryRunner.query(`CREATE INDEX runs_lane_running_idx ON runs (lane_id) WHERE status = 'running'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS runs_lane_running_idx`);
    await queryRunner.query(`DROP TABLE IF EXISTS conversations`);
  }
}
