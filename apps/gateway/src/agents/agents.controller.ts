import { LettaOperation } from '../http/api-docs';
import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Query, UnprocessableEntityException, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiConsumes } from '@nestjs/swagger';
import { AgentStore, MessageQueries, toAgentView } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { AgentIdPipe } from '../http/letta-id.pipe';
import { CreateAgentDto, UpdateAgentDto } from './dto/create-agent.dto';
import { ListAgentsQueryDto } from './dto/list-agents.query';
import { ListAgentMessagesQueryDto } from './dto/list-agent-messages.query';
import { llmConfigFor, memoryBlockProblems, newAgentFrom, secretsOf } from './agent-config';
import { AgentToolNames } from './agent-tools/tool-names';
import { withApprovalRules, withoutApprovalRule } from '@lrs/domain-run';
import { RequiresApprovalDto } from './dto/requires-approval.dto';
import { ThreadResolver, agentNotFound } from '../threads/thread-resolver';
import { ThreadContextUseCase } from '../threads/thread-context.use-case';
import { AgentFileUseCase } from './agent-file/agent-file.use-case';
import { ExportAgentQueryDto, ImportAgentFormDto } from './agent-file/agent-file.dto';
import { CompactDto, RecompileQueryDto, ResetMessagesDto } from '../threads/thread-context.dto';
import { callerOrganization } from '../auth/caller';
import { requireAllowedModel } from '../auth/allowed-models';

/** Agent files are small JSON documents; this bounds what one upload may hold in memory. */
const AGENT_FILE_MAX_BYTES = 50 * 1024 * 1024;

@Controller('v1/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentStore,
    private readonly messageQueries: MessageQueries,
    private readonly threads: ThreadResolver,
    private readonly contexts: ThreadContextUseCase,
    private readonly agentFiles: AgentFileUseCase,
    private readonly toolNames: AgentToolNames,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('create_agent', 'Create an agent', 'AgentState')
  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateAgentDto) {
    const input = newAgentFrom(body, this.settings.defaultModelHandle, callerOrganization());
    requireAllowedModel(this.settings.allowedModels, input.model, 'model');
    const tools = await this.toolNames.resolve(callerOrganization(), input.toolNames, body.tool_ids);
    const problems = [...memoryBlockProblems(input.memoryBlocks), ...tools.problems];
    if (problems.length) throw new UnprocessableEntityException({ detail: `Invalid request: ${problems.join('; ')}` });
    const created = await this.agents.create({ ...input, toolNames: tools.names, toolRules: withApprovalRules(input.toolRules, tools.gated) });
    return toAgentView(created);
  }

  /** Letta's agent file (multipart field `file`); creates every agent in it or none. */
  @LettaOperation('import_agent', 'Import agents from an agent file', 'ImportedAgents')
  @ApiConsumes('multipart/form-data')
  @Post('import')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: AGENT_FILE_MAX_BYTES, files: 1 } }))
  importFile(@UploadedFile() file: { buffer: Buffer } | undefined, @Body() form: ImportAgentFormDto) {
    return this.agentFiles.importFile(file, form);
  }

  @LettaOperation('list_agents', 'List agents', { arrayOf: 'AgentState' })
  @Get()
  async list(@Query() query: ListAgentsQueryDto) {
    const agents = await this.agents.list(callerOrganization(), {
      ...query.toPage({ limit: 50, order: 'desc' }),
      name: query.name,
      tags: query.tags,
      matchAllTags: query.match_all_tags,
    });
    return agents.map(toAgentView);
  }

  @LettaOperation('retrieve_agent', 'Retrieve an agent', 'AgentState')
  @Get(':agent_id')
  async get(@Param('agent_id', AgentIdPipe) agentId: string) {
    return toAgentView(await this.threads.agent(agentId));
  }

  @LettaOperation('modify_agent', 'Update an agent', 'AgentState')
  @Patch(':agent_id')
  async update(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: UpdateAgentDto) {
    requireAllowedModel(this.settings.allowedModels, body.model, 'model');
    const tools = body.tool_ids ? await this.toolNames.resolve(callerOrganization(), [], body.tool_ids) : null;
    if (tools?.problems.length) throw new UnprocessableEntityException({ detail: `Invalid request: ${tools.problems.join('; ')}` });
    const current = tools?.gated.length ? await this.threads.agent(agentId) : null;
    const agent = await this.agents.update(callerOrganization(), agentId, {
      toolNames: tools?.names,
      secrets: secretsOf(body),
      name: body.name,
      system: body.system,
      model: body.model,
      llmConfig: body.model ? modelFieldsOf(llmConfigFor(body.model)) : undefined,
      tags: body.tags,
      description: body.description,
      metadata: body.metadata,
      toolRules: tools?.gated.length ? withApprovalRules(body.tool_rules ?? current!.toolRules, tools.gated) : body.tool_rules,
      blockIds: body.block_ids,
    });
    if (!agent) throw agentNotFound(agentId);
    return toAgentView(agent);
  }

  @LettaOperation('list_messages', "List an agent's messages", { arrayOf: 'LettaMessage' })
  @Get(':agent_id/messages')
  async messages(@Param('agent_id', AgentIdPipe) agentId: string, @Query() query: ListAgentMessagesQueryDto) {
    if (!(await this.agents.exists(callerOrganization(), agentId))) throw agentNotFound(agentId);
    return this.messageQueries.history(agentId, query.toPage({ limit: 100, order: 'desc' }), query.include_return_message_types);
  }

  /** Marks (or unmarks) a tool as needing a human's approval before each call. */
  @LettaOperation('modify_approval_for_tool', 'Require (or stop requiring) approval before a tool runs', 'AgentState')
  @Patch(':agent_id/tools/approval/:tool_name')
  async setRequiresApproval(
    @Param('agent_id', AgentIdPipe) agentId: string,
    @Param('tool_name') toolName: string,
    @Body() body: RequiresApprovalDto,
  ) {
    const agent = await this.threads.agent(agentId);
    const others = withoutApprovalRule(agent.toolRules, toolName);
    const toolRules = body.requires_approval ? withApprovalRules(others, [toolName]) : others;
    // The agent may be deleted between the read and the update: a 404, as for any missing agent.
    const updated = await this.agents.update(callerOrganization(), agentId, { toolRules });
    if (!updated) throw agentNotFound(agentId);
    return toAgentView(updated);
  }

  /** The agent, its memory blocks, tools and in-context messages as Letta's agent file (v2), indented. */
  @LettaOperation('export_agent', 'Export an agent as an agent file', 'AgentFile')
  @Get(':agent_id/export')
  @Header('content-type', 'application/json')
  async exportFile(@Param('agent_id', AgentIdPipe) agentId: string, @Query() query: ExportAgentQueryDto) {
    return JSON.stringify(await this.agentFiles.exportAgent(agentId, query), null, 2);
  }

  /** The compiled system prompt, as a JSON string. */
  @LettaOperation('recompile_agent', "Recompile an agent's system prompt", 'CompiledSystemPrompt')
  @Post(':agent_id/recompile')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  async recompile(@Param('agent_id', AgentIdPipe) agentId: string, @Query() _query: RecompileQueryDto) {
    return JSON.stringify(await this.contexts.compiledSystemPrompt(await this.threads.ofAgent(agentId)));
  }

  @LettaOperation('retrieve_agent_context_window', "An overview of the agent's context window, in tokens", 'ContextWindowOverview')
  @Get(':agent_id/context')
  async contextWindow(@Param('agent_id', AgentIdPipe) agentId: string) {
    return this.contexts.contextOverview(await this.threads.ofAgent(agentId));
  }

  @LettaOperation('reset_messages', "Reset an agent's messages", 'AgentState')
  @Patch(':agent_id/reset-messages')
  async resetMessages(@Param('agent_id', AgentIdPipe) agentId: string, @Body() _body: ResetMessagesDto) {
    return this.contexts.reset(await this.threads.ofAgent(agentId));
  }

  @LettaOperation('summarize_messages', "Compact an agent's messages into a summary", 'CompactionResponse')
  @Post(':agent_id/summarize')
  @HttpCode(200)
  async summarize(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: CompactDto) {
    return this.contexts.compact(await this.threads.ofAgent(agentId), body.compaction_settings);
  }

  @LettaOperation('delete_agent', 'Delete an agent', 'Deleted')
  @Delete(':agent_id')
  async remove(@Param('agent_id', AgentIdPipe) agentId: string) {
    if (!(await this.agents.delete(callerOrganization(), agentId))) throw agentNotFound(agentId);
    return { message: `Agent id=${agentId} successfully deleted` };
  }
}

/** A model change replaces only the model's identity; limits set at creation stay. */
function modelFieldsOf(config: Record<string, unknown>): Record<string, unknown> {
  const { model, handle, provider_name, model_endpoint_type } = config;
  return { model, handle, provider_name, model_endpoint_type };
}
