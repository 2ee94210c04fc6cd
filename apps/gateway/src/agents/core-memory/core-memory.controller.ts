import { Body, ConflictException, Controller, Get, NotFoundException, Param, Patch, UnprocessableEntityException } from '@nestjs/common';
import { IsBoolean, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Min } from 'class-validator';
import { AgentStore, toBlockView, type AgentEntity } from '@lrs/read-model';
import { LettaOperation } from '../../http/api-docs';
import { AgentIdPipe } from '../../http/letta-id.pipe';
import { ThreadResolver } from '../../threads/thread-resolver';

export class UpdateBlockDto {
  @IsOptional() @IsString() @IsNotEmpty() @Matches(/^[A-Za-z0-9_-]+$/, { message: 'label may contain only letters, digits, _ and -' }) label?: string;
  @IsOptional() @IsString() value?: string;
  @IsOptional() @IsInt() @Min(1) limit?: number;
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsBoolean() read_only?: boolean;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
}

/**
 * An agent's core memory blocks by label. A change shows in the system prompt of the agent's
 * next model call (prompts are compiled at every step).
 */
@Controller('v1/agents/:agent_id/core-memory/blocks')
export class CoreMemoryController {
  constructor(
    private readonly agents: AgentStore,
    private readonly threads: ThreadResolver,
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
    if (body.label !== undefined && body.label !== label && agent.blocks.some((other) => other.label === body.label)) {
      throw new ConflictException({ detail: `CONFLICT: agent ${agentId} already has a block labelled '${body.label}'` });
    }
    const updated = await this.agents.updateBlock(block, {
      label: body.label,
      value: body.value,
      limit: body.limit,
      description: body.description,
      readOnly: body.read_only,
      metadata: body.metadata,
    });
    return toBlockView(updated);
  }

  private block(agent: AgentEntity, label: string) {
    const block = agent.blocks.find((candidate) => candidate.label === label);
    if (!block) throw new NotFoundException({ detail: `Block with label '${label}' not found for agent ${agent.id}` });
    return block;
  }
}
