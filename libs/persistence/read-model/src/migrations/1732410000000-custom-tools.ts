import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custom tools (`/v1/tools`): an organization's tools from source, unique by name within it (an
 * agent names its tools, as Letta's prompts and tool rules do), and agents' secrets, the tools'
 * environment. Secrets live apart from the agent row so that no agent read that is not a tool
 * call (views, lists, prompts) ever loads their values.
 */
export class CustomTools1732410000000 implements MigrationInterface {
  name = 'CustomTools1732410000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tools (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        tool_type text NOT NULL DEFAULT 'custom',
        source_type text NOT NULL,
        source_code text NOT NULL,
        json_schema jsonb NOT NULL,
        args_json_schema jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        return_char_limit integer NOT NULL,
        default_requires_approval boolean,
        pip_requirements jsonb,
        npm_requirements jsonb,
        metadata jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, name)
      )`);
    await queryRunner.query(`CREATE INDEX tools_created ON tools (organization_id, created_at, id)`);
    await queryRunner.query(`
      CREATE TABLE agent_secrets (
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        key text NOT NULL,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agent_id, key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE agent_secrets`);
    await queryRunner.query(`DROP TABLE tools`);
  }
}
