import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Blocks of their own (`POST /v1/blocks`): a block made through the blocks API is `standalone` and
 * stays when the last agent it is attached to is deleted (a block made with an agent still goes
 * with the last agent that has it). Blocks carry Letta's `tags`, and an organization's blocks are
 * listed in creation order.
 */
export class StandaloneBlocks1732360000000 implements MigrationInterface {
  name = 'StandaloneBlocks1732360000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE blocks ADD COLUMN standalone boolean NOT NULL DEFAULT false, ADD COLUMN tags text[] NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`CREATE INDEX blocks_org_created ON blocks (organization_id, created_at, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX blocks_org_created`);
    await queryRunner.query(`ALTER TABLE blocks DROP COLUMN standalone, DROP COLUMN tags`);
  }
}
