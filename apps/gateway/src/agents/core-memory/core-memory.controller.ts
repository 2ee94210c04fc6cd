import { Body, Controller, Get, Inject, NotFoundException, Param, Patch, UnprocessableEntityException } from '@nestjs/common';
import { IsBoolean, IsObject, IsOptional, IsString } from 'class-validator';
import { AgentStore, toAgentView, toBlockView, type AgentSnapshot, type BlockChanges } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { LettaOperation } from '../../http/api-docs';
import { AgentIdPipe, BlockIdPipe } from '../../http/letta-id.pipe';
import { ThreadResolver, agentNotFound } from '../../threads/thread-resolver';
import { BlockCharLimit, BlockLabel } from '../dto/create-agent.dto';
import { NullMeansUnchanged } from '../../http/validation';
import { callerOrganization } from '../../auth/caller';
import { LIMITS } from '../../http/limits';

export class UpdateBlockDto {
  @NullMeansUnchanged() @IsOptional() @BlockLabel() label?: string;
  @NullMeansUnchanged() @IsOptional() @IsString() value?: string;
  @NullMeansUnchanged() @BlockCharLimit() limit?: number;
  @IsOptional() @IsString() description?: string | null;
  @NullMeansUnchanged() @IsOptional() @IsBoolean() read_only?: boolean;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;

  /** The fields given, as the store's change (those not given stay as they are). */
  toChanges(): BlockChanges {
    return { label: this.label, value: this.value, limit: this.limit, description: this.description, readOnly: this.read_only, metadata: this.metadata };
  }
}

/**
 * An agent's core memory blocks by label, and sharing blocks between agents by id. A change shows
 * in the system prompt of the next model call of every agent the block is attached to (prompts
 * are compiled at every step).
 */
@Controller('v1/agents/:agent_id/core-memory/blocks')
export class CoreMemoryController {
  constructor(
    private readonly agents: AgentStore,
    private readonly threads: ThreadResolver,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('list_core_memory_blocks', "List an agent's memory blocks", { arrayOf: 'Block' })
  @Get()
  async list(@Param('agent_id', AgentIdPipe) agentId: string) {
    return (await this.threads.agent(agentId)).blocks.map(toBlockView);
  }

  @LettaOperation('retrieve_core_memory_block', "Retrieve an agent's memory block", 'Block')
  @Get(':block_label')
  async retrieve(@Param('agent_id', AgentIdPipe) agentId: string, @Param('block_label') label: string) {
    return toBlockView(this.block(await this.threads.agent(agentId), label));
  }

  @LettaOperation('modify_core_memory_block', "Update an agent's memory block", 'Block')
  @Patch(':block_label')
  async update(@Param('agent_id', AgentIdPipe) agentId: string, @Param('block_label') label: string, @Body() body: UpdateBlockDto) {
    const agent = await this.threads.agent(agentId);
    const block = this.block(agent, label);
    const value = body.value ?? block.value;
    const limit = body.limit ?? block.charLimit;
    if (value.length > limit) {
      throw new UnprocessableEntityException({ detail: `Invalid request: value: ${value.length} characters exceed the block limit of ${limit}` });
    }
    return toBlockView(await this.agents.updateBlock(block, body.toChanges()));
  }

  /** Shares an existing block (from another agent's memory) with this agent; attaching it twice changes nothing. */
  @LettaOperation('attach_core_memory_block', 'Attach a memory block to an agent', 'AgentState')
  @Patch('attach/:block_id')
  attach(@Param('agent_id', AgentIdPipe) agentId: string, @Param('block_id', BlockIdPipe) blockId: string) {
    return this.stateAfter(agentId, this.agents.attachBlock(callerOrganization(), agentId, blockId, LIMITS.blocks));
  }

  /** The block stays for the other agents it is attached to, and can be attached again by id. */
  @LettaOperation('detach_core_memory_block', 'Detach a memory block from an agent', 'AgentState')
  @Patch('detach/:block_id')
  detach(@Param('agent_id', AgentIdPipe) agentId: string, @Param('block_id', BlockIdPipe) blockId: string) {
    return this.stateAfter(agentId, this.agents.detachBlock(callerOrganization(), agentId, blockId));
  }

  private async stateAfter(agentId: string, change: Promise<AgentSnapshot | null>) {
    const agent = await change;
    if (!agent) throw agentNotFound(agentId);
    return toAgentView(agent);
  }

  private block(agent: AgentSnapshot, label: string) {
    const block = agent.blocks.find((candidate) => candidate.label === label);
    if (!block) throw new NotFoundException({ detail: `Block with label '${label}' not found for agent ${agent.id}` });
    return block;
  }
}
