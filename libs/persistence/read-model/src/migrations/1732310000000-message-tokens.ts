import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each message's token count, taken once when it is stored, so that fitting a prompt into the
 * model's context window never re-counts a thread's history (docs/context-window.md). Rows stored
 * before this have none; readers count those on the fly.
 */
export class MessageTokens1732310000000 implements MigrationInterface {
  name = 'MessageTokens1732310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN token_count integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN token_count`);
  }
}
