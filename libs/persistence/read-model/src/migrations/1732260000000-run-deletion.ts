import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Deleted runs stay as tombstones so their later events still project as no-ops. */
export class RunDeletion1732260000000 implements MigrationInterface {
  name = 'RunDeletion1732260000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE runs ADD COLUMN deleted_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE runs DROP COLUMN deleted_at`);
  }
}
