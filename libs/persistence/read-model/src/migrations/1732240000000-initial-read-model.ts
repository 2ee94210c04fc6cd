import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The read model: every table carries organization_id, so every read can be scoped to the caller's organization. */
export class InitialReadModel1732240000000 implements MigrationInterface {
  name = 'InitialReadModel1732240000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE agents (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        name text NOT NULL,
        description text,
        system text NOT NULL,
        agent_type text NOT NULL,
        model text,
        embedding text,
        llm_config jsonb NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        metadata jsonb,
        tool_rules jsonb NOT NULL DEFAULT '[]',
        tool_names text[] NOT NULL DEFAULT '{}',
        extra jsonb NOT NULL DEFAULT '{}',
        last_run_completion timestamptz,
        last_run_duration_ms bigint,
        last_stop_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX agents_org_created_idx ON agents (organization_id, created_at, id)`);
    await queryRunner.query(`
      CREATE TABLE blocks (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        label text NOT NULL,
        value text NOT NULL,
        char_limit integer NOT NULL,
        description text,
        read_only boolean NOT NULL DEFAULT false,
        metadata jsonb,
        position integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (agent_id, label)
      )`);
    await queryRunner.query(`
      CREATE TABLE runs (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        agent_id text NOT NULL,
        conversation_id text,
        lane_id text NOT NULL,
        status text NOT NULL,
        stop_reason text,
        background boolean NOT NULL,
        metadata jsonb NOT NULL,
        request_config jsonb NOT NULL,
        callback_url text,
        callback_sent_at timestamptz,
        callback_status_code integer,
        callback_error text,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        completed_at timestamptz,
        ttft_ns bigint,
        total_duration_ns bigint,
        max_steps integer NOT NULL,
        override_model text,
        client_tools jsonb,
        input jsonb NOT NULL,
        version integer NOT NULL,
        last_stream_seq bigint NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX runs_org_created_idx ON runs (organization_id, created_at, id)`);
    await queryRunner.query(`CREATE INDEX runs_agent_created_idx ON runs (agent_id, created_at, id)`);
    await queryRunner.query(`CREATE INDEX runs_active_idx ON runs (agent_id) WHERE status IN ('created', 'running')`);
    await queryRunner.query(`
      CREATE TABLE messages (
        id text PRIMARY KEY,
        sequence_id bigserial UNIQUE,
        organization_id text NOT NULL,
        agent_id text NOT NULL,
        run_id text NOT NULL,
        step_id text,
        message_type text NOT NULL,
        otid text,
        created_at timestamptz NOT NULL,
        body jsonb NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX messages_agent_seq_idx ON messages (agent_id, sequence_id)`);
    await queryRunner.query(`CREATE INDEX messages_run_seq_idx ON messages (run_id, sequence_id)`);
    await queryRunner.query(`
      CREATE TABLE steps (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        run_id text NOT NULL,
        agent_id text NOT NULL,
        step_index integer NOT NULL,
        status text NOT NULL,
        model text,
        model_handle text,
        prompt_tokens integer,
        completion_tokens integer,
        total_tokens integer,
        stop_reason text,
        error_type text,
        error_data jsonb,
        llm_request_started_at timestamptz,
        created_at timestamptz NOT NULL,
        completed_at timestamptz,
        UNIQUE (run_id, step_index)
      )`);
    await queryRunner.query(`
      CREATE TABLE callback_attempts (
        run_id text NOT NULL,
        attempt integer NOT NULL,
        organization_id text NOT NULL,
        sent_at timestamptz NOT NULL,
        status_code integer,
        error text,
        final boolean NOT NULL,
        PRIMARY KEY (run_id, attempt)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['callback_attempts', 'steps', 'messages', 'runs', 'blocks', 'agents']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
