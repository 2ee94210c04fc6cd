import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Runs that only record approval decisions, and the approval timeout a run was sent with. */
export class RunApprovalOptions1732250000000 implements MigrationInterface {
  name = 'RunApprovalOptions1732250000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE runs ADD COLUMN resolve_approvals_only boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE runs ADD COLUMN approval_timeout_seconds integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE runs DROP COLUMN approval_timeout_seconds`);
    await queryRunner.query(`ALTER TABLE runs DROP COLUMN resolve_approvals_only`);
  }
}
