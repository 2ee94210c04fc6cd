import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scheduled messages (docs/scheduling.md): one row per schedule, claimed by any gateway when its
 * `attempt_at` is due (`FOR UPDATE SKIP LOCKED`, by the partial index), so a pending schedule
 * costs one row and no work until due. `fire_at` is the firing it waits on (its run id derives
 * from it); `attempt_at` is when to try it, later than `fire_at` after a transient refusal; both
 * null once a one-time schedule has fired. Deleting the agent deletes its schedules.
 */
export class Schedules1732420000000 implements MigrationInterface {
  name = 'Schedules1732420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE schedules (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('one-time', 'recurring')),
        scheduled_at timestamptz,
        cron_expression text,
        message jsonb NOT NULL,
        fire_at timestamptz,
        attempt_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_fired_at timestamptz,
        last_run_id text,
        fired_count integer NOT NULL DEFAULT 0,
        skipped_count integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await queryRunner.query(`CREATE INDEX schedules_due ON schedules (attempt_at) WHERE attempt_at IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX schedules_agent ON schedules (agent_id, created_at, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE schedules`);
  }
}
