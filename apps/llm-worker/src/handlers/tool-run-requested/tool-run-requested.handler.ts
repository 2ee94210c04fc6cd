import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { TOOL_RUN_REQUESTS, type ToolRunReply, type ToolRunRequest } from '@lrs/jetstream';
import { AgentStore } from '@lrs/read-model';
import { ServerTools, ToolContext } from '../../tools/server-tools';

/**
 * Runs one of an agent's tools outside a run (agents.tools.run), with the same code and checks as
 * a model's tool call. It writes nothing: memory edits go back in the reply and the gateway
 * records them, so a reply that never arrives changes nothing.
 */
@Controller()
export class ToolRunRequestedHandler {

  constructor(
    private readonly agents: AgentStore,
    private readonly tools: ServerTools,
  ) {}

  @MessagePattern(TOOL_RUN_REQUESTS)
  async run(@Payload() request: ToolRunRequest): Promise<ToolRunReply> {
    const agent = await this.agents.get(request.organizationId, request.agentId);
    if (!agent) return { ok: false, status: 404, detail: `Agent with ID ${request.agentId} not found` };
    if (!agent.toolNames.includes(request.toolName)) {
      return { ok: false, status: 404, detail: `Tool '${request.toolName}' not found or not attached to agent ${request.agentId}` };
    }
    const context = ToolContext.of(agent);
    const outcome = await this.tools.execute({ name: request.toolName, arguments: JSON.stringify(request.args), tool_call_id: `call_${randomUUID()}` }, context);
    return { ok: true, status: outcome.status, output: outcome.output, memoryEdits: context.memoryEdits() };
  }
}
