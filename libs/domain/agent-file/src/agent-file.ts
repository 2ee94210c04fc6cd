import type { LettaMessage } from '@lrs/contracts';
import { fileMessageProblem, fromFileMessage, isOptional, isRecord, isString, isStringList, toFileMessages, type ApiMessageShell, type FileMessage } from './file-messages';

export interface FileBlock {
  id: string;
  label: string;
  value: string;
  limit: number;
  description: string | null;
  read_only: boolean;
  metadata: Record<string, unknown>;
  [key: string]: unknown;
}

export interface FileTool {
  id: string;
  name: string;
  tool_type: string;
  description: string | null;
  source_code: string | null;
  json_schema: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface FileAgent {
  id: string;
  name: string;
  system: string;
  agent_type: string;
  llm_config: Record<string, unknown> | null;
  model: string | null;
  embedding: string | null;
  tags: string[];
  description: string | null;
  metadata: Record<string, unknown> | null;
  tool_rules: unknown[];
  block_ids: string[];
  tool_ids: string[];
  in_context_message_ids: string[];
  messages: FileMessage[];
  /** This server's addition: the passages of the agent's own archive (text only; they are embedded again on import). */
  passages?: FilePassage[];
  [key: string]: unknown;
}

/** A passage of an agent's archival memory as a file carries it. */
export interface FilePassage {
  text: string;
  tags: string[];
  created_at: string;
}

/** Letta's agent file, format v2 (what its export route writes and its import route reads). */
export interface AgentFile {
  agents: FileAgent[];
  groups: unknown[];
  blocks: FileBlock[];
  files: unknown[];
  sources: unknown[];
  tools: FileTool[];
  mcp_servers: unknown[];
  skills: unknown[];
  metadata: Record<string, string>;
  created_at: string;
}

/** An import refused for what the file holds; the route answers 400 with this detail. */
export class AgentFileError extends Error {}

/** What an export starts from: one agent as this server stores it, and the messages in its context. */
export interface AgentSnapshot {
  name: string;
  system: string;
  agentType: string;
  llmConfig: Record<string, unknown>;
  modelHandle: string | null;
  embedding: string | null;
  tags: string[];
  description: string | null;
  metadata: Record<string, unknown> | null;
  toolRules: unknown[];
  blocks: { label: string; value: string; limit: number; description: string | null; readOnly: boolean; metadata: Record<string, unknown> | null }[];
  /** Letta's Tool objects of the agent's tools (their ids are replaced by file-local ones). */
  tools: { name: string; [key: string]: unknown }[];
  /** The compiled system prompt, exported as the first in-context message as Letta does. */
  systemPrompt: string;
  /** In-context messages (without the system prompt), oldest first, with their creation times. */
  messages: { message: LettaMessage; createdAt: string }[];
  /** The passages of the agent's own archive, oldest first. */
  passages?: FilePassage[];
}

/** Entities get file-local ids (`agent-0`, `block-0`, ...), numbered per kind in order of appearance. */
export function toAgentFile(snapshot: AgentSnapshot, options: { createdAt: string; revisionId: string; scrubMessages: boolean }): AgentFile {
  const blocks: FileBlock[] = snapshot.blocks.map((block, index) => ({
    id: `block-${index}`,
    label: block.label,
    value: block.value,
    limit: block.limit,
    description: block.description,
    read_only: block.readOnly,
    metadata: block.metadata ?? {},
    is_template: false,
    template_name: null,
    preserve_on_migration: false,
    hidden: null,
  }));
  // Custom tools carry their source, so an import elsewhere runs them; the server's own tools have none.
  const tools = snapshot.tools.map((tool, index) => ({ ...tool, id: `tool-${index}`, source_code: tool.source_code ?? null }) as FileTool);
  const drafts = options.scrubMessages
    ? []
    : [
        ...toFileMessages({ message_type: 'system_message', content: snapshot.systemPrompt, otid: null } as LettaMessage, options.createdAt),
        ...snapshot.messages.flatMap(({ message, createdAt }) => toFileMessages(message, createdAt)),
      ];
  const messages: FileMessage[] = drafts.map((draft, index) => ({ ...draft, id: `message-${index}`, agent_id: 'agent-0', model: null }));
  const agent: FileAgent = {
    id: 'agent-0',
    name: snapshot.name,
    system: snapshot.system,
    agent_type: snapshot.agentType,
    llm_config: snapshot.llmConfig,
    embedding_config: null,
    model: snapshot.modelHandle,
    embedding: snapshot.embedding,
    tags: snapshot.tags,
    description: snapshot.description,
    metadata: snapshot.metadata,
    tool_rules: snapshot.toolRules,
    memory_blocks: [],
    tools: [],
    include_base_tools: false,
    timezone: 'UTC',
    block_ids: blocks.map((block) => block.id),
    tool_ids: tools.map((tool) => tool.id),
    source_ids: [],
    in_context_message_ids: messages.map((message) => message.id),
    messages,
    files_agents: [],
    group_ids: [],
    ...(snapshot.passages?.length ? { passages: snapshot.passages } : {}),
  };
  return {
    agents: [agent],
    groups: [],
    blocks,
    files: [],
    sources: [],
    tools,
    mcp_servers: [],
    skills: [],
    metadata: { revision_id: options.revisionId },
    created_at: options.createdAt,
  };
}

/** The file's text as an agent file: JSON, possibly encoded twice (files in the wild are). */
export function parseAgentFile(text: string): AgentFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
  } catch {
    throw new AgentFileError('Corrupted agent file format.');
  }
  if (!isRecord(parsed)) throw new AgentFileError('Corrupted agent file format.');
  if (!Array.isArray(parsed.agents)) {
    throw new AgentFileError("Legacy AgentSchema format is deprecated. Please use the new AgentFileSchema format with 'agents' field.");
  }
  return {
    agents: parsed.agents as FileAgent[],
    groups: arrayOr(parsed.groups),
    blocks: arrayOr(parsed.blocks) as FileBlock[],
    files: arrayOr(parsed.files),
    sources: arrayOr(parsed.sources),
    tools: arrayOr(parsed.tools) as FileTool[],
    mcp_servers: arrayOr(parsed.mcp_servers),
    skills: arrayOr(parsed.skills),
    metadata: isRecord(parsed.metadata) ? (parsed.metadata as Record<string, string>) : {},
    created_at: typeof parsed.created_at === 'string' ? parsed.created_at : '',
  };
}

/** One agent of a file, ready to be created here. */
export interface AgentImport {
  name: string;
  system: string;
  agentType: string;
  modelHandle: string | null;
  embedding: string | null;
  contextWindow: number | null;
  tags: string[];
  description: string | null;
  metadata: Record<string, unknown> | null;
  toolRules: unknown[];
  /** `fileId` names the block in the file: agents of one file that list the same block share it. */
  blocks: { fileId: string; label: string; value: string; limit: number; description: string | null; read_only: boolean; metadata: Record<string, unknown> | null }[];
  /** Every tool of the agent, by name: the server's own, and those of `fileTools`. */
  toolNames: string[];
  /** The agent's tools that are not this server's own (custom, MCP, other Letta tools): the import creates them in the organization. */
  fileTools: FileTool[];
  /** Labels changed to this server's form (`/notes` to `notes`, `a//b` to `a/b`). */
  renamedLabels: { from: string; to: string }[];
  /** Every imported message, oldest first, with fresh ids; only `inContextIds` are in the agent's context. */
  messages: LettaMessage[];
  inContextIds: string[];
  /** Passages for the agent's own archive (embedded on import). */
  passages: FilePassage[];
}

/** A tool of an imported agent that is attached but answers an error when called, and why. */
export interface UnavailableTool {
  name: string;
  tool_type: string;
  reason: string;
}

/** A label as this server keeps it: Letta's path labels without empty segments or a leading or trailing `/`. */
export function normalizedLabel(label: string): string {
  return label.split('/').filter((segment) => segment !== '').join('/');
}

export interface ImportOptions {
  /** The names of the server's own tools; the agent's other tools are the file's to create (`fileTools`). */
  serverTools: readonly string[];
  stripMessages: boolean;
  newMessageShell: (source: FileMessage) => ApiMessageShell;
}

/**
 * Checks the file's references and turns each agent into what this server creates. Everything is
 * checked before anything is created, so a refused file leaves nothing behind.
 */
export function planImport(file: AgentFile, options: ImportOptions): AgentImport[] {
  const problems: string[] = [];
  const blocks = indexById(file.blocks, 'block', problems);
  const tools = indexById(file.tools, 'tool', problems);
  if (file.agents.length === 0) problems.push('the file has no agents');
  const plans = file.agents.map((agent, index) => {
    const where = `agents.${index}`;
    if (!isRecord(agent) || typeof agent.id !== 'string') {
      problems.push(`${where}: not an agent`);
      return null;
    }
    if (typeof agent.name !== 'string' || agent.name.length === 0) problems.push(`${where}.name: missing`);
    const shapeProblems = agentShapeProblems(agent, where);
    if (shapeProblems.length) {
      problems.push(...shapeProblems);
      return null;
    }
    const agentBlocks = (agent.block_ids ?? []).map((id) => blocks.get(id) ?? (problems.push(`${where}.block_ids: unknown block ${id}`), null));
    const agentTools = (agent.tool_ids ?? []).map((id) => tools.get(id) ?? (problems.push(`${where}.tool_ids: unknown tool ${id}`), null));
    const presentTools = agentTools.filter((tool): tool is FileTool => tool !== null && (typeof tool.name === 'string' || (problems.push(`${where}.tool_ids: tool ${tool.id} has no name`), false)));
    const presentBlocks = agentBlocks.filter((block): block is FileBlock => block !== null);
    const fileMessages = Array.isArray(agent.messages) ? agent.messages : [];
    const byFileId = new Map(fileMessages.map((message) => [message.id, message]));
    for (const id of agent.in_context_message_ids ?? []) if (!byFileId.has(id)) problems.push(`${where}.in_context_message_ids: unknown message ${id}`);
    const inContextFileIds = new Set(agent.in_context_message_ids ?? []);
    const messages: LettaMessage[] = [];
    const inContextIds: string[] = [];
    if (!options.stripMessages) {
      for (const message of fileMessages) {
        const produced = fromFileMessage(message, options.newMessageShell);
        messages.push(...produced);
        if (inContextFileIds.has(message.id)) inContextIds.push(...produced.map((m) => m.id));
      }
    }
    const llmConfig = isRecord(agent.llm_config) ? agent.llm_config : {};
    return {
      name: agent.name,
      system: typeof agent.system === 'string' ? agent.system : '',
      agentType: typeof agent.agent_type === 'string' ? agent.agent_type : 'letta_v1_agent',
      modelHandle: agent.model ?? (typeof llmConfig.handle === 'string' ? llmConfig.handle : null),
      embedding: agent.embedding ?? null,
      contextWindow: typeof llmConfig.context_window === 'number' ? llmConfig.context_window : null,
      tags: Array.isArray(agent.tags) ? agent.tags.filter((tag): tag is string => typeof tag === 'string') : [],
      description: agent.description ?? null,
      metadata: agent.metadata ?? null,
      toolRules: Array.isArray(agent.tool_rules) ? agent.tool_rules : [],
      blocks: presentBlocks.map((block) => ({
        fileId: block.id,
        label: typeof block.label === 'string' ? normalizedLabel(block.label) : block.label,
        value: block.value,
        limit: block.limit,
        description: block.description ?? null,
        read_only: block.read_only ?? false,
        metadata: block.metadata ?? null,
      })),
      toolNames: presentTools.map((tool) => tool.name),
      fileTools: presentTools.filter((tool) => !options.serverTools.includes(tool.name)),
      renamedLabels: presentBlocks
        .filter((block) => typeof block.label === 'string' && normalizedLabel(block.label) !== block.label)
        .map((block) => ({ from: block.label, to: normalizedLabel(block.label) })),
      messages,
      inContextIds,
      passages: (agent.passages ?? []).map((passage) => ({ text: passage.text, tags: passage.tags ?? [], created_at: passage.created_at })),
    };
  });
  if (problems.length) throw new AgentFileError(`Import failed: ${problems.join('; ')}`);
  return plans as AgentImport[];
}

/** The fields the import reads, in the types it reads them: `agents.N.field: must be ...` lines. */
function agentShapeProblems(agent: FileAgent, where: string): string[] {
  const expected: [keyof FileAgent, (value: unknown) => boolean, string][] = [
    ['system', isString, 'a string'],
    ['agent_type', isString, 'a string'],
    ['model', isString, 'a string'],
    ['embedding', isString, 'a string'],
    ['description', isString, 'a string'],
    ['llm_config', isRecord, 'an object'],
    ['metadata', isRecord, 'an object'],
    ['tags', isStringList, 'a list of strings'],
    ['tool_rules', Array.isArray, 'a list'],
    ['block_ids', isStringList, 'a list of strings'],
    ['tool_ids', isStringList, 'a list of strings'],
    ['in_context_message_ids', isStringList, 'a list of strings'],
    ['messages', Array.isArray, 'a list'],
    ['passages', Array.isArray, 'a list'],
  ];
  const problems = expected.filter(([field, ok]) => !isOptional(agent[field], ok)).map(([field, , what]) => `${where}.${String(field)}: must be ${what}`);
  (Array.isArray(agent.passages) ? (agent.passages as unknown[]) : []).forEach((passage, index) => {
    const ok = isRecord(passage) && isString(passage.text) && isOptional(passage.tags, isStringList) && isOptional(passage.created_at, (value) => isString(value) && !Number.isNaN(Date.parse(value)));
    if (!ok) problems.push(`${where}.passages.${index}: must be { text: string, tags?: string[], created_at?: ISO 8601 date }`);
  });
  (Array.isArray(agent.messages) ? (agent.messages as unknown[]) : []).forEach((message, index) => {
    const problem = fileMessageProblem(message);
    if (problem) problems.push(`${where}.messages.${index}: ${problem}`);
  });
  return problems;
}

function indexById<T extends { id: string }>(entities: T[], prefix: string, problems: string[]): Map<string, T> {
  const byId = new Map<string, T>();
  for (const entity of entities) {
    if (!isRecord(entity) || typeof entity.id !== 'string' || !new RegExp(`^${prefix}-\\d+$`).test(entity.id)) {
      problems.push(`Invalid ID format: ${isRecord(entity) ? String(entity.id) : 'entry'} should look like '${prefix}-<number>'`);
      continue;
    }
    if (byId.has(entity.id)) problems.push(`Duplicate ID ${entity.id}`);
    byId.set(entity.id, entity);
  }
  return byId;
}

function arrayOr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
