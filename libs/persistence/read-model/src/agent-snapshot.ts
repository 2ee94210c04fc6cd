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
  /** The organization's custom tools the agent names in `toolNames` (base tools are not rows). */
  customTools?: ToolSnapshot[];
  /** The names of the agent's secrets (their values are read only to run a tool). */
  secretKeys?: string[];
}

/**
 * A tool of an organization's catalog: a custom tool from source (`/v1/tools`), or a base tool
 * of this server (no organization, fixed id, `sourceCode` null) shown the same way.
 */
export interface ToolSnapshot {
  id: string;
  organizationId: string | null;
  name: string;
  description: string;
  /** Letta's tool_type: `custom` for tools from source, `letta_*` for the server's own. */
  toolType: string;
  sourceType: string;
  sourceCode: string | null;
  /** The function schema offered to the model: `{name, description, parameters}`. */
  jsonSchema: { name: string; description?: string; parameters: Record<string, unknown> } & Record<string, unknown>;
  argsJsonSchema: Record<string, unknown> | null;
  tags: string[];
  returnCharLimit: number;
  defaultRequiresApproval: boolean | null;
  pipRequirements: { name: string; version?: string | null }[] | null;
  npmRequirements: { name: string; version?: string | null }[] | null;
  metadata: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
}
