import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to a memory block's value goes through a ledger: one row per edit, keyed by the
 * edit's id, with its operation and the value before it (the base a revert replays from; rows
 * older than a day are pruned). The key makes an edit
 * exactly-once (a redelivered step, a retried request); the operations let a step whose outcome
 * never reached its run's log be taken back while later edits by others stay. Blocks count their
 * committed changes in `version`.
 */
export class BlockEdits1732340000000 implements MigrationInterface {
  name = 'BlockEdits1732340000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE blocks ADD COLUMN version integer NOT NULL DEFAULT 0`);
    await queryRunner.query(`
      CREATE TABLE block_edits (
        seq bigserial PRIMARY KEY,
        edit_id text NOT NULL UNIQUE,
        block_id text NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
        organization_id text NOT NULL,
        source text NOT NULL,
        agent_id text,
        run_id text,
        step_id text,
        tool_call_id text,
        operation jsonb NOT NULL,
        value_before text NOT NULL,
        version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        reverted_at timestamptz,
        revert_reason text
      )`);
    await queryRunner.query(`CREATE INDEX block_edits_block ON block_edits (block_id, seq)`);
    await queryRunner.query(`CREATE INDEX block_edits_step ON block_edits (step_id) WHERE step_id IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX block_edits_created ON block_edits (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE block_edits`);
    await queryRunner.query(`ALTER TABLE blocks DROP COLUMN version`);
  }
}
