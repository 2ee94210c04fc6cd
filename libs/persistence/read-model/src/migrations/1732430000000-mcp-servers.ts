import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MCP servers (`/v1/mcp-servers`): an organization's registered servers, unique by name within it
 * (agent files name a tool's server by its name). A server's tools are rows of `tools`
 * (`tool_type` external_mcp, `metadata.mcp.server_id`), so agents attach and name them like any
 * tool; the index finds a server's tools for a refresh or a delete. Tokens, header values and a
 * stdio server's environment are kept as given: the API masks them, and only the llm-worker
 * reads them, to connect.
 */
export class McpServers1732430000000 implements MigrationInterface {
  name = 'McpServers1732430000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE mcp_servers (
        id text PRIMARY KEY,
        organization_id text NOT NULL,
        server_name text NOT NULL,
        server_type text NOT NULL CHECK (server_type IN ('streamable_http', 'sse', 'stdio')),
        server_url text,
        auth_header text,
        auth_token text,
        custom_headers jsonb,
        command text,
        args jsonb,
        env jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organization_id, server_name)
      )`);
    await queryRunner.query(`CREATE INDEX tools_mcp_server ON tools (organization_id, ((metadata -> 'mcp' ->> 'server_id'))) WHERE tool_type = 'external_mcp'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX tools_mcp_server`);
    await queryRunner.query(`DROP TABLE mcp_servers`);
  }
}
