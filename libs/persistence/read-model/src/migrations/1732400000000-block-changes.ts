import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Blocks a step's tools created, deleted (detached from the agent) or renamed (Letta's `memory`
 * tool): one row per change, keyed by the change's id, with what taking it back needs (`undo`).
 * The key makes a change exactly-once with its step; a step whose outcome never reached its run's
 * log has its changes taken back, newest first.
 */
export class BlockChanges1732400000000 implements MigrationInterface {
  name = 'BlockChanges1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE block_changes (
        seq bigserial PRIMARY KEY,
        change_id text NOT NULL UNIQUE,
        organization_id text NOT NULL,
        agent_id text NOT NULL,
        run_id text,
        step_id text NOT NULL,
        tool_call_id text,
        operation jsonb NOT NULL,
        undo jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        reverted_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX block_changes_step ON block_changes (step_id)`);
    await queryRunner.query(`CREATE INDEX block_changes_created ON block_changes (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE block_changes`);
  }
}
