import { baseTool, baseToolType, type ToolDefinition } from '@lrs/contracts';
import { compileSystemPrompt, memorySections, type PromptBlock } from '@lrs/domain-run';
import type { AgentSnapshot, BlockSnapshot, ToolSnapshot } from './agent-snapshot';
import { isoUtc } from './wire-format';

/**
 * The agent's system prompt as the model sees it now; `currentValue` lets a step show the
 * block values its own tool calls have just changed.
 */
export function systemPromptOf(agent: AgentSnapshot, previousMessageCount: number, currentValue: (block: BlockSnapshot) => string = (block) => block.value): string {
  return compileSystemPrompt(agent.system, promptBlocksOf(agent, currentValue), { agentId: agent.id, previousMessageCount, archivalMemoryCount: agent.archivalMemoryCount });
}

/** The agent's memory as its system prompt shows it, in two parts: the blocks, and the recall metadata. */
export function memorySectionsOf(agent: AgentSnapshot, previousMessageCount: number): { coreMemory: string; memoryMetadata: string } {
  return memorySections(promptBlocksOf(agent), { agentId: agent.id, previousMessageCount, archivalMemoryCount: agent.archivalMemoryCount });
}

function promptBlocksOf(agent: AgentSnapshot, currentValue: (block: BlockSnapshot) => string = (block) => block.value): PromptBlock[] {
  return (agent.blocks ?? []).map((block) => ({ label: block.label, value: currentValue(block), limit: block.charLimit, description: block.description, readOnly: block.readOnly }));
}

export function toBlockView(block: BlockSnapshot) {
  return {
    id: block.id,
    label: block.label,
    value: block.value,
    limit: block.charLimit,
    description: block.description,
    read_only: block.readOnly,
    metadata: block.metadata ?? {},
    tags: block.tags ?? [],
    hidden: null,
    is_template: false,
    template_name: null,
    template_id: null,
    base_template_id: null,
    deployment_id: null,
    entity_id: null,
    preserve_on_migration: false,
    project_id: null,
    created_by_id: null,
    last_updated_by_id: null,
  };
}

/** The return limit of the server's own tools, Letta's default for every tool. */
export const DEFAULT_RETURN_CHAR_LIMIT = 50_000;

/** A base tool as a catalog entry, so views, lists and the step treat every tool alike. */
export function baseToolSnapshot(tool: ToolDefinition): ToolSnapshot {
  return {
    id: tool.id,
    organizationId: null,
    name: tool.name,
    description: tool.description,
    toolType: baseToolType(tool),
    sourceType: 'python',
    sourceCode: null,
    jsonSchema: { name: tool.name, description: tool.description, parameters: tool.parameters },
    argsJsonSchema: null,
    tags: ['letta_core'],
    returnCharLimit: DEFAULT_RETURN_CHAR_LIMIT,
    defaultRequiresApproval: null,
    pipRequirements: null,
    npmRequirements: null,
    metadata: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };
}

/** The agent's tools in the order it names them: base tools, and its organization's custom tools. */
export function agentTools(agent: Pick<AgentSnapshot, 'toolNames' | 'customTools'>): ToolSnapshot[] {
  const custom = new Map((agent.customTools ?? []).map((tool) => [tool.name, tool]));
  return agent.toolNames.flatMap((name) => {
    const base = baseTool(name);
    const tool = base ? baseToolSnapshot(base) : custom.get(name);
    return tool ? [tool] : [];
  });
}

/** Letta's Tool. */
export function toToolView(tool: ToolSnapshot | ToolDefinition) {
  const entry = 'jsonSchema' in tool ? tool : baseToolSnapshot(tool);
  return {
    id: entry.id,
    name: entry.name,
    description: entry.description,
    tool_type: entry.toolType,
    source_type: entry.sourceType,
    source_code: entry.sourceCode,
    json_schema: entry.jsonSchema,
    args_json_schema: entry.argsJsonSchema,
    return_char_limit: entry.returnCharLimit,
    tags: entry.tags,
    default_requires_approval: entry.defaultRequiresApproval,
    enable_parallel_execution: false,
    pip_requirements: entry.pipRequirements,
    npm_requirements: entry.npmRequirements,
    metadata_: entry.metadata ?? {},
    project_id: null,
    created_by_id: null,
    last_updated_by_id: null,
  };
}

/** What the API shows of a secret: its name, never its value once set. */
export const SECRET_MASK = '********';

/** Letta's AgentState. Relationships (blocks, tags) are always included: clients never mistake them for lost data. */
export function toAgentView(agent: AgentSnapshot) {
  const blocks = (agent.blocks ?? []).map(toBlockView);
  return {
    id: agent.id,
    name: agent.name,
    system: agent.system,
    agent_type: agent.agentType,
    llm_config: agent.llmConfig,
    embedding_config: null,
    model: agent.model,
    embedding: agent.embedding,
    model_settings: null,
    compaction_settings: null,
    response_format: null,
    tool_rules: agent.toolRules,
    message_ids: [],
    memory: { agent_type: agent.agentType, blocks, file_blocks: [], prompt_template: null },
    blocks,
    tools: agentTools(agent).map(toToolView),
    sources: [],
    tags: agent.tags,
    identity_ids: [],
    identities: [],
    pending_approval: null,
    message_buffer_autoclear: false,
    enable_sleeptime: null,
    multi_agent_group: null,
    managed_group: null,
    last_run_completion: isoUtc(agent.lastRunCompletion),
    last_run_duration_ms: agent.lastRunDurationMs === null ? null : Number(agent.lastRunDurationMs),
    last_stop_reason: agent.lastStopReason,
    timezone: 'UTC',
    max_files_open: null,
    per_file_view_window_char_limit: null,
    hidden: null,
    project_id: null,
    template_id: null,
    base_template_id: null,
    deployment_id: null,
    entity_id: null,
    secrets: secretViews(agent),
    tool_exec_environment_variables: secretViews(agent),
    description: agent.description,
    metadata: agent.metadata,
    created_by_id: null,
    last_updated_by_id: null,
    created_at: isoUtc(agent.createdAt),
    updated_at: isoUtc(agent.updatedAt),
  };
}


function secretViews(agent: AgentSnapshot) {
  return (agent.secretKeys ?? []).map((key) => ({ agent_id: agent.id, key, value: SECRET_MASK, description: null }));
}
