/**
 * An agent and its memory blocks as plain data: what the read model hands the apps. The TypeORM
 * entities (entities/) stay inside this lib, so no app depends on how the rows are mapped.
 */
export interface BlockSnapshot {
  id: string;
  organizationId: string;
  label: string;
  value: string;
  charLimit: number;
  description: string | null;
  readOnly: boolean;
  metadata: Record<string, unknown> | null;
  /** Letta's block tags (a block made with an agent has none). */
  tags?: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface AgentSnapshot {
  id: string;
  organizationId: string;
  name: string;
  description: string | null;
  system: string;
  agentType: string;
  model: string | null;
  embedding: string | null;
  llmConfig: Record<string, unknown>;
  tags: string[];
  metadata: Record<string, unknown> | null;
  toolRules: unknown[];
  toolNames: string[];
  extra: Record<string, unknown>;
  lastRunCompletion: Date | null;
  /** Postgres bigint, as text. */
  lastRunDurationMs: string | null;
  lastStopReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Attached memory blocks in prompt order. */
  blocks: BlockSnapshot[];
  /** Passages in the archives attached to the agent (loaded with a single agent, for its prompt). */
  archivalMemoryCount?: number;
}
