import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch, Post, Query } from '@nestjs/common';
import { AgentStore, BlockStore, toAgentView, toBlockView, type BlockSnapshot } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { BlockIdPipe } from '../http/letta-id.pipe';
import { callerOrganization } from '../auth/caller';
import { CreateBlockDto, ListBlockAgentsQueryDto, ListBlocksQueryDto, ModifyBlockDto } from './blocks.dto';

/**
 * Letta's standalone blocks: made, listed and deleted without an agent, attached to agents by id
 * (`/v1/agents/{id}/core-memory/blocks/attach/{block_id}`). A block attached to several agents is
 * one block: a change shows in every one's next prompt. Another organization's block is a 404.
 */
@Controller('v1/blocks')
export class BlocksController {
  constructor(
    private readonly blocks: BlockStore,
    private readonly agents: AgentStore,
  ) {}

  @LettaOperation('create_block', 'Create a memory block', 'Block')
  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateBlockDto) {
    const block = await this.blocks.create({ ...body, organizationId: callerOrganization(), tags: body.tags ?? undefined });
    return toBlockView(block);
  }

  @LettaOperation('list_blocks', "List the organization's memory blocks", { arrayOf: 'Block' })
  @Get()
  async list(@Query() query: ListBlocksQueryDto) {
    if (query.matchesNothing()) return [];
    return (await this.blocks.list(callerOrganization(), query.toFilter())).map(toBlockView);
  }

  @LettaOperation('retrieve_block', 'Retrieve a memory block', 'Block')
  @Get(':block_id')
  async retrieve(@Param('block_id', BlockIdPipe) blockId: string) {
    return toBlockView(await this.block(blockId));
  }

  /** A new value is committed through the edit ledger, to the block as it is then (docs/memory.md). */
  @LettaOperation('modify_block', 'Update a memory block', 'Block')
  @Patch(':block_id')
  async update(@Param('block_id', BlockIdPipe) blockId: string, @Body() body: ModifyBlockDto) {
    return toBlockView(await this.agents.updateBlock(await this.block(blockId), body.toChanges()));
  }

  /** Detaches the block from every agent that has it, then deletes it. */
  @LettaOperation('delete_block', 'Delete a memory block', 'Deleted')
  @Delete(':block_id')
  async remove(@Param('block_id', BlockIdPipe) blockId: string) {
    if (!(await this.blocks.delete(callerOrganization(), blockId))) throw blockNotFound(blockId);
    return { message: `Block id=${blockId} successfully deleted` };
  }

  @LettaOperation('list_agents_for_block', 'List the agents a memory block is attached to', { arrayOf: 'AgentState' })
  @Get(':block_id/agents')
  async agentsOf(@Param('block_id', BlockIdPipe) blockId: string, @Query() query: ListBlockAgentsQueryDto) {
    await this.block(blockId);
    const agents = await this.agents.list(callerOrganization(), { ...query.toPage({ limit: 50, order: 'desc' }), blockId });
    return agents.map(toAgentView);
  }

  private async block(blockId: string): Promise<BlockSnapshot> {
    const block = await this.blocks.get(callerOrganization(), blockId);
    if (!block) throw blockNotFound(blockId);
    return block;
  }
}

function blockNotFound(blockId: string): NotFoundException {
  return new NotFoundException({ detail: `Block with id '${blockId}' not found` });
}
