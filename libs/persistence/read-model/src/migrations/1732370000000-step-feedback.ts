import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Steps carry what a user said about them (`PATCH /v1/steps/{id}/feedback`): a feedback and tags.
 * Neither is in the run event log, so the projector never writes them and the rebuild carries them
 * over (read-model-rebuild.ts). The indexes serve `GET /v1/steps`, newest first, per organization
 * or per agent.
 */
export class StepFeedback1732370000000 implements MigrationInterface {
  name = 'StepFeedback1732370000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE steps ADD COLUMN feedback text CHECK (feedback IN ('positive', 'negative'))`);
    await queryRunner.query(`ALTER TABLE steps ADD COLUMN tags text[] NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`CREATE INDEX steps_org_created_idx ON steps (organization_id, created_at, id)`);
    await queryRunner.query(`CREATE INDEX steps_agent_created_idx ON steps (agent_id, created_at, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX steps_agent_created_idx`);
    await queryRunner.query(`DROP INDEX steps_org_created_idx`);
    await queryRunner.query(`ALTER TABLE steps DROP COLUMN tags`);
    await queryRunner.query(`ALTER TABLE steps DROP COLUMN feedback`);
  }
}
