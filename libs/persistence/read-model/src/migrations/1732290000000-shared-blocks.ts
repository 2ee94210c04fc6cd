import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Memory blocks can be shared: a block attached to several agents is one row, so an edit by any
 * of them shows in every one's next prompt. Attachments carry the block's label so that the
 * database itself keeps labels unique per agent, however blocks are attached or renamed, and the
 * position that orders an agent's blocks in its prompt. Existing blocks keep their one agent.
 */
export class SharedBlocks1732290000000 implements MigrationInterface {
  name = 'SharedBlocks1732290000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE agent_blocks (
        agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
        block_id text NOT NULL REFERENCES blocks (id) ON DELETE CASCADE,
        block_label text NOT NULL,
        position integer NOT NULL,
        PRIMARY KEY (agent_id, block_id),
        CONSTRAINT agent_blocks_label_unique UNIQUE (agent_id, block_label)
      )`);
    await queryRunner.query(`CREATE INDEX agent_blocks_block_id ON agent_blocks (block_id)`);
    await queryRunner.query(`INSERT INTO agent_blocks (agent_id, block_id, block_label, position) SELECT agent_id, id, label, position FROM blocks`);
    await queryRunner.query(`ALTER TABLE blocks DROP COLUMN agent_id, DROP COLUMN position`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Back to one agent per block: each block stays with the agent it was attached to first; blocks attached nowhere go.
    await queryRunner.query(`ALTER TABLE blocks ADD COLUMN agent_id text REFERENCES agents (id) ON DELETE CASCADE, ADD COLUMN position integer`);
    await queryRunner.query(`
      UPDATE blocks b SET agent_id = first.agent_id, position = first.position
      FROM (SELECT DISTINCT ON (block_id) block_id, agent_id, position FROM agent_blocks ORDER BY block_id, agent_id) first
      WHERE first.block_id = b.id`);
    await queryRunner.query(`DELETE FROM blocks WHERE agent_id IS NULL`);
    await queryRunner.query(`ALTER TABLE blocks ALTER COLUMN agent_id SET NOT NULL, ALTER COLUMN position SET NOT NULL, ADD CONSTRAINT blocks_agent_id_label_key UNIQUE (agent_id, label)`);
    await queryRunner.query(`DROP TABLE agent_blocks`);
  }
}
