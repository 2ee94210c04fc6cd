import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a thread's messages were last reset. The projector restores message rows the run path did
 * not write; without this it also restored the rows a reset had just deleted, for runs it had not
 * projected yet, and the history came back.
 */
export class ThreadReset1732330000000 implements MigrationInterface {
  name = 'ThreadReset1732330000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE thread_contexts ADD COLUMN reset_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE thread_contexts DROP COLUMN reset_at`);
  }
}
