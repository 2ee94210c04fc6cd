import { HttpException, Inject, Injectable } from '@nestjs/common';
import { ToolRunRequests } from '@lrs/jetstream';
import { AgentStore, toAgentView } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { ThreadResolver } from '../../threads/thread-resolver';
import { callerOrganization } from '../../auth/caller';

/**
 * agents.tools.run: an llm-worker runs the tool exactly as it would for the model, and its memory
 * edits are committed here in one transaction once the answer is back. A tool that fails is still
 * a 200 with status `error`, as in Letta; only a tool the agent does not have is a 404.
 */
@Injectable()
export class RunToolUseCase {
  constructor(
    private readonly requests: ToolRunRequests,
    private readonly agents: AgentStore,
    private readonly threads: ThreadResolver,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async run(agentId: string, toolName: string, args: Record<string, unknown>) {
    await this.threads.agent(agentId);
    const reply = await this.requests.request({ organizationId: callerOrganization(), agentId, toolName, args }, this.settings.toolRunTimeoutMs);
    if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
    // Applied to the blocks as they are now: an edit another writer's change has made impossible is the tool's error.
    const [refused] = await this.agents.editBlocks(callerOrganization(), agentId, reply.memoryEdits);
    const status = refused === undefined ? reply.status : 'error';
    const output = refused ?? reply.output;
    return {
      status,
      func_return: output,
      agent_state: toAgentView(await this.threads.agent(agentId)),
      sandbox_config_fingerprint: null,
      stdout: reply.stdout ?? [],
      stderr: reply.stderr?.length ? reply.stderr : status === 'error' ? [output] : [],
    };
  }
}
