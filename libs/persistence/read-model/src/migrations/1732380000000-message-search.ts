import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Full-text search over messages (`POST /v1/messages/search`, the `conversation_search` tool) and
 * the organization-wide message list (`GET /v1/messages`).
 *
 * `message_search_text(body)` is the text a message shows a reader: its content (a string, or the
 * text parts of a list), reasoning, tool return or summary. Tool-call arguments, images and ids are
 * left out. Only its first 100,000 characters are indexed: Postgres refuses a tsvector past 1 MB,
 * which a longer message of many distinct words could reach, and a refused row would fail its
 * step's write for ever. `search_vector` holds that text as lexemes of the `simple` configuration
 * (lower-cased words, no stemming, no stop words: any language, and `run-probe` keeps both the
 * compound and its parts), computed by Postgres on every insert; `messages_search_idx` is its GIN
 * index. Adding a stored generated column rewrites the table once.
 */
export class MessageSearch1732380000000 implements MigrationInterface {
  name = 'MessageSearch1732380000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Immutable by construction (jsonb operators, text concatenation, left()), as a generated column requires.
    await queryRunner.query(`
      CREATE FUNCTION message_search_text(body jsonb) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT left(
          coalesce(CASE jsonb_typeof(body -> 'content')
            WHEN 'string' THEN body ->> 'content'
            WHEN 'array' THEN (SELECT string_agg(part ->> 'text', ' ') FROM jsonb_array_elements(body -> 'content') AS part WHERE part ->> 'type' = 'text')
          END, '')
          || ' ' || coalesce(body ->> 'reasoning', '')
          || ' ' || coalesce(body ->> 'tool_return', '')
          || ' ' || coalesce(body ->> 'summary', ''),
          100000)
      $$`);
    await queryRunner.query(
      `ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, message_search_text(body))) STORED`,
    );
    await queryRunner.query(`CREATE INDEX messages_search_idx ON messages USING gin (search_vector)`);
    await queryRunner.query(`CREATE INDEX messages_org_seq_idx ON messages (organization_id, sequence_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS messages_org_seq_idx`);
    await queryRunner.query(`DROP INDEX IF EXISTS messages_search_idx`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN IF EXISTS search_vector`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS message_search_text(jsonb)`);
  }
}
