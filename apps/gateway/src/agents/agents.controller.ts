import { LettaOperation } from '../http/api-docs';
import { Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Patch, Post, Query, UnprocessableEntityException } from '@nestjs/common';
import { AgentStore, toAgentView } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { AgentIdPipe } from '../http/letta-id.pipe';
import { CreateAgentDto, UpdateAgentDto } from './dto/create-agent.dto';
import { ListAgentsQueryDto } from './dto/list-agents.query';
import { ListAgentMessagesQueryDto } from './dto/list-agent-messages.query';
import { llmConfigFor, memoryBlockProblems, newAgentFrom, unknownToolProblems } from './agent-config';
import { RequiresApprovalDto } from './dto/requires-approval.dto';

@Controller('v1/agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('create_agent', 'Create an agent', 'AgentState')
  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateAgentDto) {
    const input = newAgentFrom(body, this.settings.defaultModelHandle, this.settings.organizationId);
    const problems = [...memoryBlockProblems(input.memoryBlocks), ...unknownToolProblems(body.tools)];
    if (problems.length) throw new UnprocessableEntityException({ detail: `Invalid request: ${problems.join('; ')}` });
    const created = await this.agents.create(input);
    return toAgentView(created);
  }

  @LettaOperation('list_agents', 'List agents', { arrayOf: 'AgentState' })
  @Get()
  async list(@Query() query: ListAgentsQueryDto) {
    const agents = await this.agents.list(this.settings.organizationId, {
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
    const agent = await this.agents.get(this.settings.organizationId, agentId);
    if (!agent) throw notFound(agentId);
    return toAgentView(agent);
  }

  @LettaOperation('modify_agent', 'Update an agent', 'AgentState')
  @Patch(':agent_id')
  async update(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: UpdateAgentDto) {
    const agent = await this.agents.update(this.settings.organizationId, agentId, {
      name: body.name,
      system: body.system,
      model: body.model,
      llmConfig: body.model ? modelFieldsOf(llmConfigFor(body.model)) : undefined,
      tags: body.tags,
      description: body.description,
      metadata: body.metadata,
      toolRules: body.tool_rules,
    });
    if (!agent) throw notFound(agentId);
    return toAgentView(agent);
  }

  @LettaOperation('list_messages', "List an agent's messages", { arrayOf: 'LettaMessage' })
  @Get(':agent_id/messages')
  async messages(@Param('agent_id', AgentIdPipe) agentId: string, @Query() query: ListAgentMessagesQueryDto) {
    if (!(await this.agents.exists(this.settings.organizationId, agentId))) throw notFound(agentId);
    return this.agents.history(agentId, query.toPage({ limit: 100, order: 'desc' }), query.include_return_message_types);
  }

  /** Marks (or unmarks) a tool as needing a human's approval before each call. */
  @LettaOperation('modify_approval_for_tool', 'Require (or stop requiring) approval before a tool runs', 'AgentState')
  @Patch(':agent_id/tools/approval/:tool_name')
  async setRequiresApproval(
    @Param('agent_id', AgentIdPipe) agentId: string,
    @Param('tool_name') toolName: string,
    @Body() body: RequiresApprovalDto,
  ) {
    const agent = await this.agents.get(this.settings.organizationId, agentId);
    if (!agent) throw notFound(agentId);
    const others = agent.toolRules.filter(
      (rule) => !(typeof rule === 'object' && rule !== null && (rule as { type?: unknown }).type === 'requires_approval' && (rule as { tool_name?: unknown }).tool_name === toolName),
    );
    const toolRules = body.requires_approval ? [...others, { type: 'requires_approval', tool_name: toolName }] : others;
    return toAgentView((await this.agents.update(this.settings.organizationId, agentId, { toolRules }))!);
  }

  @LettaOperation('delete_agent', 'Delete an agent', 'Deleted')
  @Delete(':agent_id')
  async remove(@Param('agent_id', AgentIdPipe) agentId: string) {
    if (!(await this.agents.delete(this.settings.organizationId, agentId))) throw notFound(agentId);
    return { message: `Agent id=${agentId} successfully deleted` };
  }
}

/** A model change replaces only the model's identity; limits set at creation stay. */
function modelFieldsOf(config: Record<string, unknown>): Record<string, unknown> {
  const { model, handle, provider_name, model_endpoint_type } = config;
  return { model, handle, provider_name, model_endpoint_type };
}

export function notFound(agentId: string): NotFoundException {
  return new NotFoundException({ detail: `Agent with ID ${agentId} not found` });
}
