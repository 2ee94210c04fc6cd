import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BlockEntity } from './block.entity';

@Entity({ name: 'agents' })
export class AgentEntity {
  @PrimaryColumn('text') id: string;
  @Column('text', { name: 'organization_id' }) organizationId: string;
  @Column('text') name: string;
  @Column('text', { nullable: true }) description: string | null;
  @Column('text') system: string;
  @Column('text', { name: 'agent_type' }) agentType: string;
  @Column('text', { nullable: true }) model: string | null;
  @Column('text', { nullable: true }) embedding: string | null;
  @Column('jsonb', { name: 'llm_config' }) llmConfig: Record<string, unknown>;
  @Column('text', { array: true }) tags: string[];
  @Column('jsonb', { nullable: true }) metadata: Record<string, unknown> | null;
  @Column('jsonb', { name: 'tool_rules' }) toolRules: unknown[];
  @Column('text', { name: 'tool_names', array: true }) toolNames: string[];
  @Column('jsonb') extra: Record<string, unknown>;
  @Column('timestamptz', { name: 'last_run_completion', nullable: true }) lastRunCompletion: Date | null;
  @Column('bigint', { name: 'last_run_duration_ms', nullable: true }) lastRunDurationMs: string | null;
  @Column('text', { name: 'last_stop_reason', nullable: true }) lastStopReason: string | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt: Date;
  /** Attached memory blocks in prompt order, loaded by AgentStore (blocks may be shared, see agent_blocks). */
  blocks: BlockEntity[];
  /** Passages in the archives attached to the agent, loaded by AgentStore.get for its prompt. */
  archivalMemoryCount?: number;
  /** Custom tools the agent names and its secrets' names, loaded by AgentStore. */
  customTools?: import('../agent-snapshot').ToolSnapshot[];
  secretKeys?: string[];
}
