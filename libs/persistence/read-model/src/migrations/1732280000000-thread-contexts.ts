import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a thread (the agent's default thread or a conversation, keyed by its lane id) shows the
 * model besides the system prompt: messages it starts from (shared with the thread it was forked
 * from, or a compaction summary), then its own messages after a sequence number (moved forward by
 * a reset or a compaction). Without a row, a thread's context is all of its own messages.
 * Messages made outside a run (compaction summaries) carry the lane id instead of a run id.
 * Forks may be hidden from conversation listings.
 */
export class ThreadContexts1732280000000 implements MigrationInterface {
  name = 'ThreadContexts1732280000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE thread_contexts (
        lane_id text PRIMARY KEY,
        organization_id text NOT NULL,
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        base_message_ids text[] NOT NULL DEFAULT '{}',
        starts_after_sequence bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`ALTER TABLE messages ALTER COLUMN run_id DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN lane_id text`);
    await queryRunner.query(`ALTER TABLE conversations ADD COLUMN hidden boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN hidden`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN lane_id`);
    await queryRunner.query(`DELETE FROM messages WHERE run_id IS NULL`);
    await queryRunner.query(`ALTER TABLE messages ALTER COLUMN run_id SET NOT NULL`);
    await queryRunner.query(`DROP TABLE IF EXISTS thread_contexts`);
  }
}
