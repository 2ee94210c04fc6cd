import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { AgentEntity } from './agent.entity';

@Entity({ name: 'blocks' })
export class BlockEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'organization_id' }) organizationId: string;
  @Column('text', { name: 'agent_id' }) agentId: string;
  @ManyToOne(() => AgentEntity, (agent) => agent.blocks, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'agent_id' })
  agent: Relation<AgentEntity>;
  @Column('text') label: string;
  @Column('text') value: string;
  @Column('integer', { name: 'char_limit' }) charLimit: number;
  @Column('text', { nullable: true }) description: string | null;
  @Column('boolean', { name: 'read_only' }) readOnly: boolean;
  @Column('jsonb', { nullable: true }) metadata: Record<string, unknown> | null;
  @Column('integer') position: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
}
