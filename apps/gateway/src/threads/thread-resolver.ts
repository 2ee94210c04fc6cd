import { BadRequestException, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { laneIdOf } from '@lrs/contracts';
import { AgentStore, ConversationStore, type AgentSnapshot, type ConversationView, type ThreadRef } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { callerOrganization } from '../auth/caller';

export interface Thread extends ThreadRef {
  conversationId: string | null;
}

/** Turns the ids of a request into the thread they name: an agent's own thread or one of its conversations. */
@Injectable()
export class ThreadResolver {
  constructor(
    private readonly agents: AgentStore,
    private readonly conversations: ConversationStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  /** The agent with its blocks; 404 when there is none. */
  async agent(agentId: string): Promise<AgentSnapshot> {
    const agent = await this.agents.get(callerOrganization(), agentId);
    if (!agent) throw agentNotFound(agentId);
    return agent;
  }

  async ofAgent(agentId: string): Promise<Thread> {
    if (!(await this.agents.exists(callerOrganization(), agentId))) throw agentNotFound(agentId);
    return this.thread(agentId, null);
  }

  /** A conversation path id; `default` names the agent's own thread and needs the agent_id. */
  async ofConversationPath(id: string, agentId: string | undefined): Promise<Thread> {
    if (id !== 'default') return this.thread((await this.conversation(id)).agent_id, id);
    if (!agentId) throw new UnprocessableEntityException({ detail: "agent_id is required with the 'default' conversation" });
    return this.ofAgent(agentId);
  }

  async conversation(id: string): Promise<ConversationView> {
    if (id === 'default') throw new BadRequestException({ detail: "The 'default' conversation is the agent's own thread; it has no record of its own." });
    const conversation = await this.conversations.get(callerOrganization(), id);
    if (!conversation) throw new NotFoundException({ detail: `Conversation with ID ${id} not found` });
    return conversation;
  }

  private thread(agentId: string, conversationId: string | null): Thread {
    return { organizationId: callerOrganization(), agentId, conversationId, laneId: laneIdOf(agentId, conversationId) };
  }
}

export function agentNotFound(agentId: string): NotFoundException {
  return new NotFoundException({ detail: `Agent with ID ${agentId} not found` });
}
