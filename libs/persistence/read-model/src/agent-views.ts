import { baseToolsNamed, type ToolDefinition } from '@lrs/contracts';
import { compileSystemPrompt, memorySections, type PromptBlock } from '@lrs/domain-run';
import type { AgentSnapshot, BlockSnapshot } from './agent-snapshot';
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

/** Letta's tool_type of a base tool. */
function baseToolType(name: string): string {
  return name === 'conversation_search' ? 'letta_core' : 'letta_memory_core';
}

export function toToolView(tool: ToolDefinition) {
  return {
    id: tool.id,
    name: tool.name,
    description: tool.description,
    tool_type: baseToolType(tool.name),
    source_type: 'python',
    json_schema: { name: tool.name, description: tool.description, parameters: tool.parameters },
    args_json_schema: null,
    return_char_limit: 50_000,
    tags: ['letta_core'],
    default_requires_approval: null,
    metadata_: {},
  };
}

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
    tools: baseToolsNamed(agent.toolNames).map(toToolView),
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
    secrets: [],
    tool_exec_environment_variables: [],
    description: agent.description,
    metadata: agent.metadata,
    created_by_id: null,
    last_updated_by_id: null,
    created_at: isoUtc(agent.createdAt),
    updated_at: isoUtc(agent.updatedAt),
  };
}

