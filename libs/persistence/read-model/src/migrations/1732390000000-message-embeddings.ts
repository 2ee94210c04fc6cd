import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Message embeddings (opt-in, `MESSAGE_EMBEDDINGS=true`): the vectors `POST /v1/messages/search`
 * ranks in its `vector` and `hybrid` modes. An llm-worker embeds messages in the background.
 *
 * `message_embedding_sets` groups an organization's vectors by the model that made them (a query is
 * embedded once per model); its `generation` moves on whenever one of its vectors is deleted, so a
 * worker's vector index loads the set again (as archives do for passages). `message_embeddings` is
 * keyed by message id and goes with its message (`ON DELETE CASCADE`: a deleted agent, a reset
 * thread, a rewritten step); it repeats what the search filters need (agent, lane, type, date).
 * A row without `embedding` records a failed attempt (`attempts`, `retry_at`), retried a few times.
 * `seq` orders vectors for the index, which loads only those added since it last looked.
 */
export class MessageEmbeddings1732390000000 implements MigrationInterface {
  name = 'MessageEmbeddings1732390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE message_embedding_sets (
        id bigserial PRIMARY KEY,
        organization_id text NOT NULL,
        embedding_model text NOT NULL,
        generation integer NOT NULL DEFAULT 0,
        UNIQUE (organization_id, embedding_model)
      )`);
    await queryRunner.query(`
      CREATE TABLE message_embeddings (
        message_id text PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        seq bigserial UNIQUE,
        set_id bigint NOT NULL REFERENCES message_embedding_sets (id) ON DELETE CASCADE,
        agent_id text NOT NULL,
        lane_id text NOT NULL,
        message_type text NOT NULL,
        created_at timestamptz NOT NULL,
        embedding bytea,
        embedding_dim integer,
        attempts integer NOT NULL DEFAULT 0,
        retry_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX message_embeddings_set_seq ON message_embeddings (set_id, seq) WHERE embedding IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX message_embeddings_retry ON message_embeddings (retry_at) WHERE embedding IS NULL`);
    await queryRunner.query(`
      CREATE FUNCTION message_embeddings_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE message_embedding_sets SET generation = generation + 1 WHERE id IN (SELECT DISTINCT set_id FROM gone);
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER message_embeddings_deleted AFTER DELETE ON message_embeddings
      REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION message_embeddings_deleted()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE message_embeddings`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS message_embeddings_deleted()`);
    await queryRunner.query(`DROP TABLE message_embedding_sets`);
  }
}
