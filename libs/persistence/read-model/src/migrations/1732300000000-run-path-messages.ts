import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The run path writes a step's messages itself (the llm-worker, before it appends the step's
 * event), so a thread's history no longer depends on the projector. Every message now carries its
 * thread's lane id, and a thread's context is read by lane alone, without joining runs, whose
 * status is the projector's and may lag.
 */
export class RunPathMessages1732300000000 implements MigrationInterface {
  name = 'RunPathMessages1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE messages m SET lane_id = r.lane_id FROM runs r WHERE m.run_id = r.id AND m.lane_id IS NULL`);
    await queryRunner.query(`CREATE INDEX messages_lane_seq_idx ON messages (lane_id, sequence_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS messages_lane_seq_idx`);
    await queryRunner.query(`UPDATE messages SET lane_id = NULL WHERE run_id IS NOT NULL`);
  }
}
