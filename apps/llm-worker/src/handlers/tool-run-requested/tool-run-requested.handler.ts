import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { TOOL_RUN_REQUESTS, type ToolRunReply, type ToolRunRequest } from '@lrs/jetstream';
import { AgentStore } from '@lrs/read-model';
import { ServerTools, ToolContext } from '../../tools/server-tools';
import { ArchivalMemory } from '../../archival/archival-memory';

/**
 * Runs one of an agent's tools outside a run (agents.tools.run), with the same code and checks as
 * a model's tool call. Memory edits go back in the reply and the gateway commits them; archival
 * passages (which need their vectors) are stored here before the reply.
 */
@Controller()
export class ToolRunRequestedHandler {

  constructor(
    private readonly agents: AgentStore,
    private readonly tools: ServerTools,
    private readonly archival: ArchivalMemory,
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
    // A passage needs its vector, which only this side has: it is stored here, before the answer.
    await this.archival.storeToolRunPassages(agent, context.archivalInserts);
    return { ok: true, status: outcome.status, output: outcome.output, memoryEdits: context.memoryEdits(), stdout: outcome.stdout ?? [], stderr: outcome.stderr ?? [] };
  }
}
