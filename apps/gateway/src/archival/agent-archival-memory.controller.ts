import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { PassageStore, toPassageView, toSearchResult } from '@lrs/archival-memory';
import { AgentStore } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { AgentIdPipe, PassageIdPipe } from '../http/letta-id.pipe';
import { callerOrganization } from '../auth/caller';
import { agentNotFound } from '../threads/thread-resolver';
import { AgentSearchQuery, ListPassagesQuery, PassageDto } from './archival.dto';
import { ArchivalUseCase } from './archival.use-case';

const DEFAULT_TOP_K = 10;

/**
 * An agent's archival memory (`client.agents.passages`): passages in its own archive (made on its
 * first insert) and in every archive attached to it. Inserts and searches go through an
 * llm-worker, which embeds; lists and deletes are plain reads and writes.
 */
@Controller('v1/agents/:agent_id/archival-memory')
export class AgentArchivalMemoryController {
  constructor(
    private readonly archival: ArchivalUseCase,
    private readonly passages: PassageStore,
    private readonly agents: AgentStore,
  ) {}

  @LettaOperation('create_passage', "Insert a memory into an agent's archival memory", { arrayOf: 'Passage' })
  @Post()
  @HttpCode(200)
  async create(@Param('agent_id', AgentIdPipe) agentId: string, @Body() body: PassageDto) {
    return (await this.archival.insert({ agentId }, [body])).map(toPassageView);
  }

  @LettaOperation('list_passages', "List an agent's archival memory", { arrayOf: 'Passage' })
  @Get()
  async list(@Param('agent_id', AgentIdPipe) agentId: string, @Query() query: ListPassagesQuery) {
    await this.existing(agentId);
    const page = { before: query.before || null, after: query.after || null, limit: query.limit ?? 100, order: query.ascending === false ? ('desc' as const) : ('asc' as const) };
    return (await this.passages.listForAgent(callerOrganization(), agentId, page, query.search || null)).map(toPassageView);
  }

  @LettaOperation('search_archival_memory', "Search an agent's archival memory by meaning", 'ArchivalSearchResponse')
  @Get('search')
  async search(@Param('agent_id', AgentIdPipe) agentId: string, @Query() query: AgentSearchQuery) {
    const filter = { tags: query.tags?.length ? query.tags : null, tagMatchMode: query.tag_match_mode ?? 'any', start: query.start_datetime ?? null, end: query.end_datetime ?? null };
    const found = await this.archival.search({ agentId }, query.query, filter, query.top_k ?? DEFAULT_TOP_K);
    return { count: found.length, results: found.map(({ row }) => toSearchResult(row)) };
  }

  @LettaOperation('delete_passage', "Delete a memory from an agent's archival memory", 'Deleted')
  @Delete(':memory_id')
  async remove(@Param('agent_id', AgentIdPipe) agentId: string, @Param('memory_id', PassageIdPipe) passageId: string) {
    await this.existing(agentId);
    if (!(await this.passages.delete(callerOrganization(), passageId, { agentId }))) {
      throw new NotFoundException({ detail: `Passage with ID ${passageId} not found in the archival memory of agent ${agentId}` });
    }
    return { message: `Passage id=${passageId} successfully deleted` };
  }

  private async existing(agentId: string): Promise<void> {
    if (!(await this.agents.exists(callerOrganization(), agentId))) throw agentNotFound(agentId);
  }
}
