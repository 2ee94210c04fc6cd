import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Patch, Post } from '@nestjs/common';
import { IsObject, IsOptional } from 'class-validator';
import { AgentStore, ToolStore, agentTools, toAgentView, toToolView, type ToolSnapshot } from '@lrs/read-model';
import { LettaOperation } from '../../http/api-docs';
import { AgentIdPipe } from '../../http/letta-id.pipe';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { ThreadResolver, agentNotFound } from '../../threads/thread-resolver';
import { RunToolUseCase } from './run-tool.use-case';
import { withApprovalRules } from '@lrs/domain-run';
import { callerOrganization } from '../../auth/caller';

export class RunToolDto {
  /** The tool's arguments, as a model would pass them. */
  @IsOptional() @IsObject() args?: Record<string, unknown>;
}

/** The server tools attached to an agent; a change applies from the agent's next model call. */
@Controller('v1/agents/:agent_id/tools')
export class AgentToolsController {
  constructor(
    private readonly agents: AgentStore,
    private readonly threads: ThreadResolver,
    private readonly runTool: RunToolUseCase,
    private readonly tools: ToolStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('list_tools_for_agent', "List an agent's tools", { arrayOf: 'Tool' })
  @Get()
  async list(@Param('agent_id', AgentIdPipe) agentId: string) {
    return agentTools(await this.threads.agent(agentId)).map(toToolView);
  }

  @LettaOperation('attach_tool_to_agent', 'Attach a tool to an agent', 'AgentState')
  @Patch('attach/:tool_id')
  attach(@Param('agent_id', AgentIdPipe) agentId: string, @Param('tool_id') toolId: string) {
    return this.change(agentId, toolId, (names, tool) => [...new Set([...names, tool.name])]);
  }

  @LettaOperation('detach_tool_from_agent', 'Detach a tool from an agent', 'AgentState')
  @Patch('detach/:tool_id')
  detach(@Param('agent_id', AgentIdPipe) agentId: string, @Param('tool_id') toolId: string) {
    return this.change(agentId, toolId, (names, tool) => names.filter((name) => name !== tool.name));
  }

  @LettaOperation('run_tool_for_agent', 'Run one of an agent\'s tools', 'ToolExecutionResult')
  @Post(':tool_name/run')
  @HttpCode(200)
  run(@Param('agent_id', AgentIdPipe) agentId: string, @Param('tool_name') toolName: string, @Body() body: RunToolDto) {
    return this.runTool.run(agentId, toolName, body.args ?? {});
  }

  private async change(agentId: string, toolId: string, next: (names: string[], tool: ToolSnapshot) => string[]) {
    const tool = await this.tools.get(callerOrganization(), toolId);
    if (!tool) throw new NotFoundException({ detail: `Tool with id ${toolId} not found` });
    const agent = await this.threads.agent(agentId);
    const toolNames = next(agent.toolNames, tool);
    // Attaching a tool made with default_requires_approval gives the agent its approval rule (Letta's way).
    const gated = toolNames.includes(tool.name) && !agent.toolNames.includes(tool.name) && tool.defaultRequiresApproval === true;
    const updated = await this.agents.update(callerOrganization(), agentId, { toolNames, ...(gated ? { toolRules: withApprovalRules(agent.toolRules, [tool.name]) } : {}) });
    // Deleted between the read and the update.
    if (!updated) throw agentNotFound(agentId);
    return toAgentView(updated);
  }
}
