import { DEFAULT_SYSTEM_PROMPT } from '@lrs/domain-run';
import { DEFAULT_BLOCK_CHAR_LIMIT, type NewAgent } from '@lrs/read-model';
import { DEFAULT_BASE_TOOL_NAMES, DEFAULT_ORGANIZATION_ID } from '@lrs/contracts';
import type { CreateAgentDto } from './dto/create-agent.dto';

const DEFAULT_CONTEXT_WINDOW = 128_000;
const KNOWN_CREATE_FIELDS = new Set([
  'name', 'system', 'agent_type', 'model', 'embedding', 'memory_blocks', 'block_ids', 'tags', 'description', 'metadata', 'tools',
  'include_base_tools', 'tool_rules', 'context_window_limit', 'max_tokens', 'reasoning', 'tool_ids', 'secrets', 'tool_exec_environment_variables',
]);

/** Letta's llm_config for a `<provider>/<model>` handle served by the configured OpenAI-compatible endpoint. */
export function llmConfigFor(
  handle: string,
  options: { contextWindow?: number; maxTokens?: number | null; reasoning?: boolean; reasoningEffort?: string | null } = {},
): Record<string, unknown> {
  const [provider, ...rest] = handle.split('/');
  return {
    model: rest.join('/'),
    model_endpoint_type: 'openai',
    model_endpoint: null,
    provider_name: provider,
    provider_category: 'base',
    context_window: options.contextWindow ?? DEFAULT_CONTEXT_WINDOW,
    handle,
    temperature: 0.7,
    max_tokens: options.maxTokens ?? null,
    enable_reasoner: options.reasoning ?? false,
    reasoning_effort: options.reasoningEffort ?? null,
    parallel_tool_calls: false,
  };
}

export function newAgentFrom(body: CreateAgentDto, defaultModel: string, organizationId = DEFAULT_ORGANIZATION_ID): NewAgent {
  const model = body.model ?? defaultModel;
  const extra = Object.fromEntries(Object.entries(body).filter(([key]) => !KNOWN_CREATE_FIELDS.has(key)));
  return {
    organizationId,
    name: body.name ?? `agent-${Math.random().toString(36).slice(2, 10)}`,
    system: body.system ?? DEFAULT_SYSTEM_PROMPT,
    agentType: body.agent_type ?? 'letta_v1_agent',
    model,
    embedding: body.embedding ?? null,
    llmConfig: llmConfigFor(model, {
      contextWindow: body.context_window_limit,
      maxTokens: body.max_tokens ?? body.model_settings?.max_output_tokens,
      reasoning: body.reasoning,
      reasoningEffort: body.model_settings?.reasoning?.reasoning_effort,
    }),
    memoryBlocks: body.memory_blocks ?? [],
    blockIds: body.block_ids ?? [],
    tags: body.tags ?? [],
    description: body.description ?? null,
    metadata: body.metadata ?? null,
    toolRules: body.tool_rules ?? [],
    toolNames: attachedTools(body),
    extra,
    secrets: secretsOf(body),
  };
}

/** Block values must fit their limits and labels must be unique; returns what is wrong, if anything. */
export function memoryBlockProblems(blocks: NewAgent['memoryBlocks']): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  blocks.forEach((block, index) => {
    if (seen.has(block.label)) problems.push(`memory_blocks.${index}.label: duplicate label '${block.label}'`);
    seen.add(block.label);
    const limit = block.limit ?? DEFAULT_BLOCK_CHAR_LIMIT;
    if (block.value.length > limit) problems.push(`memory_blocks.${index}.value: ${block.value.length} characters exceed the block limit of ${limit}`);
  });
  return problems;
}

/** The server tools an agent gets: the base tools unless `include_base_tools` is false, plus those named. */
export function attachedTools(body: Pick<CreateAgentDto, 'tools' | 'include_base_tools'>): string[] {
  return [...new Set([...(body.include_base_tools === false ? [] : DEFAULT_BASE_TOOL_NAMES), ...(body.tools ?? [])])];
}

/** Letta's `secrets`, or the deprecated `tool_exec_environment_variables` (merged, `secrets` winning). */
export function secretsOf(body: Pick<CreateAgentDto, 'secrets' | 'tool_exec_environment_variables'>): Record<string, string> | undefined {
  if (!body.secrets && !body.tool_exec_environment_variables) return undefined;
  return { ...(body.tool_exec_environment_variables ?? {}), ...(body.secrets ?? {}) };
}
