import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A memory block; the agents it is attached to (and where it sits in each prompt) are in agent_blocks. */
@Entity({ name: 'blocks' })
export class BlockEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'organization_id' }) organizationId: string;
  @Column('text') label: string;
  @Column('text') value: string;
  @Column('integer', { name: 'char_limit' }) charLimit: number;
  @Column('text', { nullable: true }) description: string | null;
  @Column('boolean', { name: 'read_only' }) readOnly: boolean;
  @Column('jsonb', { nullable: true }) metadata: Record<string, unknown> | null;
  @Column('text', { array: true, default: () => `'{}'` }) tags: string[];
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
