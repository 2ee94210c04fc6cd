import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { AgentFileError, parseAgentFile, planImport, toAgentFile, type AgentFile, type AgentImport, type FilePassage, type UnavailableTool } from '@lrs/agent-file';
import { PassageStore } from '@lrs/archival-memory';
import { BASE_TOOL_NAMES, messageDate, newId } from '@lrs/contracts';
import { AgentStore, READ_MODEL_MIGRATIONS, ThreadContextStore, ToolStore, agentTools, systemPromptOf, toToolView } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { ThreadResolver } from '../../threads/thread-resolver';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { memoryBlockProblems, newAgentFrom } from '../agent-config';
import { describeValidationErrors } from '../../http/validation';
import { LIMITS } from '../../http/limits';
import { unstorableInputProblem } from '../../http/unstorable-input';
import { AGENT_TYPES, CreateAgentDto, MODEL_HANDLE_PATTERN } from '../dto/create-agent.dto';
import type { ExportAgentQueryDto, ImportAgentFormDto } from './agent-file.dto';
import { callerOrganization } from '../../auth/caller';
import { PassageDto } from '../../archival/archival.dto';
import { ArchivalUseCase } from '../../archival/archival.use-case';
import { ImportedTools, unconfiguredServerTools } from './imported-tools';

/** Migrations are this server's schema revisions; the newest names the format an export was written from. */
const REVISION_ID = READ_MODEL_MIGRATIONS[READ_MODEL_MIGRATIONS.length - 1].name;

/**
 * Letta's agent files (.af, format v2): an agent's configuration, memory blocks, tools and
 * in-context messages, so agents move between this server and Letta's in both directions; and the
 * passages of its archival memory (`agents[].passages`, text only, embedded again on import).
 */
@Injectable()
export class AgentFileUseCase {
  constructor(
    private readonly agents: AgentStore,
    private readonly contexts: ThreadContextStore,
    private readonly threads: ThreadResolver,
    private readonly passages: PassageStore,
    private readonly archival: ArchivalUseCase,
    private readonly importedTools: ImportedTools,
    private readonly tools: ToolStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async exportAgent(agentId: string, query: ExportAgentQueryDto): Promise<AgentFile> {
    if (query.use_legacy_format) throw new BadRequestException({ detail: 'Legacy format is not supported' });
    const thread = query.conversation_id ? await this.threads.ofConversationPath(query.conversation_id, agentId) : await this.threads.ofAgent(agentId);
    if (thread.agentId !== agentId) throw new BadRequestException({ detail: `Conversation ${query.conversation_id} belongs to another agent` });
    const agent = await this.threads.agent(agentId);
    const context = await this.contexts.messages(thread);
    return toAgentFile(
      {
        name: agent.name,
        system: agent.system,
        agentType: agent.agentType,
        llmConfig: agent.llmConfig,
        modelHandle: agent.model,
        embedding: agent.embedding,
        tags: agent.tags,
        description: agent.description,
        metadata: agent.metadata,
        toolRules: agent.toolRules,
        blocks: agent.blocks.map((block) => ({ label: block.label, value: block.value, limit: block.charLimit, description: block.description, readOnly: block.readOnly, metadata: block.metadata })),
        tools: agentTools(agent).map(toToolView),
        systemPrompt: systemPromptOf(agent, context.length),
        messages: context.map((message) => ({ message: message.body, createdAt: message.body.date })),
        passages: (await this.passages.ownPassages(callerOrganization(), agentId, LIMITS.passagesPerAgentFile)).map((row) => ({
          text: row.text,
          tags: row.tags,
          created_at: row.created_at.toISOString(),
        })),
      },
      { createdAt: new Date().toISOString(), revisionId: REVISION_ID, scrubMessages: query.scrub_messages ?? false },
    );
  }

  /**
   * Creates every agent of the file, or none: a refused file, or a failure halfway, leaves nothing
   * behind. Every tool of an agent is attached: custom tools with source are created in the
   * organization and run in the sandbox; a tool that cannot run here answers a clear error when
   * called, and the answer lists those (with relabelled blocks), as each agent's `metadata.unavailable_tools` does.
   */
  async importFile(upload: { buffer: Buffer } | undefined, form: ImportAgentFormDto): Promise<ImportedAgents> {
    if (!upload) throw new UnprocessableEntityException({ detail: 'file: Field required (send the agent file as multipart/form-data field "file")' });
    for (const [field, value] of [['secrets', form.secrets], ['env_vars_json', form.env_vars_json]] as const) {
      if (value !== undefined && !isJsonObject(value)) throw new BadRequestException({ detail: `${field} must be a valid JSON string` });
    }
    // The imported agents' tool environment, as Letta's import takes it (`secrets` winning over `env_vars_json`).
    const secrets = form.secrets || form.env_vars_json ? { ...JSON.parse(form.env_vars_json ?? '{}'), ...JSON.parse(form.secrets ?? '{}') } : undefined;
    let plans: AgentImport[];
    try {
      const file = parseAgentFile(upload.buffer.toString('utf8'));
      // Multipart is parsed after the JSON body's check, so the form and the file are checked here.
      const unstorable = unstorableInputProblem({ form, file });
      if (unstorable) throw new UnprocessableEntityException({ detail: `Invalid request: ${unstorable}` });
      if (file.agents.length > LIMITS.agentsPerFile) throw new AgentFileError(`Import failed: agents: at most ${LIMITS.agentsPerFile} agents per file (got ${file.agents.length})`);
      plans = planImport(file, {
        serverTools: BASE_TOOL_NAMES,
        stripMessages: form.strip_messages ?? false,
        newMessageShell: (source) => ({ id: newId('message'), otid: source.otid ?? randomUUID(), date: messageDate(validDate(source.created_at)) }),
      });
    } catch (error) {
      if (error instanceof AgentFileError) throw new BadRequestException({ detail: error.message });
      throw error;
    }
    const modelOverride = form.model ?? form.override_model_handle;
    const nameOverride = form.name ?? form.override_name;
    const inputs = plans.map((plan, index) => {
      const model = modelOverride ?? plan.modelHandle ?? this.settings.defaultModelHandle;
      if (!MODEL_HANDLE_PATTERN.test(model)) throw new BadRequestException({ detail: `Model handle '${model}' must look like '<provider>/<model>'` });
      const body: CreateAgentDto = {
        name: nameOverride ?? (form.append_copy_suffix === false ? plan.name : `${plan.name}_copy`),
        system: plan.system,
        agent_type: agentTypeOf(plan.agentType),
        model,
        embedding: form.embedding ?? plan.embedding ?? undefined,
        // Letta's files hold blocks whose value outgrew their limit (Letta checks it on edits only): the limit grows to fit, and the answer says so.
        memory_blocks: plan.blocks.map(({ fileId: _, ...block }) => ({ ...block, limit: Math.max(block.limit, block.value.length) })),
        tags: plan.tags,
        description: plan.description ?? undefined,
        metadata: plan.metadata ?? undefined,
        tool_rules: plan.toolRules as object[],
        tools: plan.toolNames,
        include_base_tools: false,
        ...(secrets ? { secrets } : {}),
        ...(!modelOverride && plan.contextWindow ? { context_window_limit: plan.contextWindow } : {}),
      };
      // What the file holds is bounded and typed exactly as a create request's body.
      const invalid = describeValidationErrors(validateSync(plainToInstance(CreateAgentDto, body)), `agents.${index}`);
      const input = newAgentFrom(body, this.settings.defaultModelHandle, callerOrganization());
      const passageProblems = passageProblemsOf(plan.passages, `agents.${index}.passages`);
      const problems = [...invalid, ...(invalid.length ? [] : memoryBlockProblems(input.memoryBlocks)), ...passageProblems];
      if (problems.length) throw new BadRequestException({ detail: `Import failed: ${problems.join('; ')}` });
      return { input, plan };
    });
    const created: string[] = [];
    const createdTools: string[] = [];
    const unavailable: ImportedAgents['unavailable_tools'] = [];
    // A block the file gives several agents is created with the first and shared with the others.
    const blockIdsByFileId = new Map<string, string>();
    try {
      for (const { input, plan } of inputs) {
        const tools = await this.importedTools.create(callerOrganization(), plan.fileTools, form.override_existing_tools ?? false);
        createdTools.push(...tools.createdToolIds);
        tools.unavailable.unshift(...unconfiguredServerTools(plan.toolNames));
        if (tools.unavailable.length) input.metadata = { ...input.metadata, unavailable_tools: tools.unavailable };
        const shared = plan.blocks.filter((block) => blockIdsByFileId.has(block.fileId));
        input.blockIds = shared.map((block) => blockIdsByFileId.get(block.fileId)!);
        input.memoryBlocks = input.memoryBlocks.filter((block) => !shared.some((other) => other.label === block.label));
        const agent = await this.agents.create(input, (manager, fresh) =>
          ThreadContextStore.seed(manager, { organizationId: fresh.organizationId, agentId: fresh.id, laneId: fresh.id }, plan.messages, plan.inContextIds),
        );
        created.push(agent.id);
        unavailable.push(...tools.unavailable.map((tool) => ({ agent_id: agent.id, ...tool })));
        for (const block of plan.blocks) blockIdsByFileId.set(block.fileId, agent.blocks.find((own) => own.label === block.label)!.id);
        // Passages are embedded again (files carry no vectors), in batches an llm-worker embeds at once.
        for (let start = 0; start < plan.passages.length; start += LIMITS.passagesPerBatch) {
          const batch = plan.passages.slice(start, start + LIMITS.passagesPerBatch);
          await this.archival.insert({ agentId: agent.id }, batch.map((passage) => ({ text: passage.text, tags: passage.tags, created_at: passage.created_at ?? null })));
        }
      }
    } catch (error) {
      for (const id of created) await this.agents.delete(callerOrganization(), id);
      for (const id of createdTools) await this.tools.delete(callerOrganization(), id);
      throw error;
    }
    return {
      agent_ids: created,
      unavailable_tools: unavailable,
      renamed_block_labels: inputs.flatMap(({ plan }, index) => plan.renamedLabels.map((renamed) => ({ agent_id: created[index], ...renamed }))),
      raised_block_limits: inputs.flatMap(({ plan }, index) =>
        plan.blocks.filter((block) => block.value.length > block.limit).map((block) => ({ agent_id: created[index], label: block.label, from: block.limit, to: block.value.length })),
      ),
    };
  }
}

/** Letta's ImportedAgentsResponse, plus what did not come across as it was. */
export interface ImportedAgents {
  agent_ids: string[];
  /** Tools of the file's agents that are attached but answer an error when called, and why. */
  unavailable_tools: ({ agent_id: string } & UnavailableTool)[];
  /** Block labels changed to this server's form. */
  renamed_block_labels: { agent_id: string; from: string; to: string }[];
  /** Blocks whose value the file held past their limit: the limit was raised to the value's length. */
  raised_block_limits: { agent_id: string; label: string; from: number; to: number }[];
}

/** Passages an import would store: as bounded as the insert route's (PassageDto), and not too many. */
function passageProblemsOf(passages: readonly FilePassage[], where: string): string[] {
  if (passages.length > LIMITS.passagesPerAgentFile) return [`${where}: at most ${LIMITS.passagesPerAgentFile} passages per agent (got ${passages.length})`];
  return passages.flatMap((passage, index) =>
    describeValidationErrors(validateSync(plainToInstance(PassageDto, { text: passage.text, tags: passage.tags, created_at: passage.created_at })), `${where}.${index}`),
  );
}

function agentTypeOf(value: string): (typeof AGENT_TYPES)[number] {
  const known = AGENT_TYPES.find((type) => type === value);
  if (!known) throw new BadRequestException({ detail: `Import failed: unknown agent_type '${value}' (expected one of ${AGENT_TYPES.join(', ')})` });
  return known;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function validDate(text: string | undefined): Date {
  const date = text ? new Date(text) : new Date();
  return Number.isNaN(date.getTime()) ? new Date() : date;
}
