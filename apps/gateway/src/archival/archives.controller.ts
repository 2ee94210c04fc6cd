import { Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Patch, Post, Query } from '@nestjs/common';
import { PassageStore, toArchiveView, toPassageView } from '@lrs/archival-memory';
import { LettaOperation } from '../http/api-docs';
import { AgentIdPipe, ArchiveIdPipe, PassageIdPipe } from '../http/letta-id.pipe';
import { callerOrganization } from '../auth/caller';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { CreateArchiveDto, ListArchivesQuery, PassageBatchDto, PassageDto, UpdateArchiveDto } from './archival.dto';
import { ArchivalUseCase, archiveNotFound } from './archival.use-case';

/**
 * Archives (`client.archives`): named stores of passages, shared by the agents attached to them.
 * Every agent attached searches the archive; deleting one deletes its passages and detaches it.
 */
@Controller('v1/archives')
export class ArchivesController {
  constructor(
    private readonly archival: ArchivalUseCase,
    private readonly passages: PassageStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('create_archive', 'Create an archive', 'Archive')
  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateArchiveDto) {
    const configured = typeof body.embedding_config?.handle === 'string' ? body.embedding_config.handle : null;
    const archive = await this.passages.createArchive(callerOrganization(), {
      name: body.name,
      description: body.description ?? null,
      embeddingModel: body.embedding ?? configured ?? this.settings.defaultEmbeddingHandle,
      metadata: body.metadata ?? null,
    });
    return toArchiveView(archive);
  }

  @LettaOperation('list_archives', 'List archives', { arrayOf: 'Archive' })
  @Get()
  async list(@Query() query: ListArchivesQuery) {
    const page = { before: query.before || null, after: query.after || null, limit: query.limit ?? 50, order: query.order ?? ('desc' as const) };
    return (await this.passages.listArchives(callerOrganization(), page, { agentId: query.agent_id || null, name: query.name || null })).map(toArchiveView);
  }

  @LettaOperation('retrieve_archive', 'Retrieve an archive', 'Archive')
  @Get(':archive_id')
  async retrieve(@Param('archive_id', ArchiveIdPipe) archiveId: string) {
    const archive = await this.passages.getArchive(callerOrganization(), archiveId);
    if (!archive) throw archiveNotFound(archiveId);
    return toArchiveView(archive);
  }

  @LettaOperation('modify_archive', 'Update an archive', 'Archive')
  @Patch(':archive_id')
  async update(@Param('archive_id', ArchiveIdPipe) archiveId: string, @Body() body: UpdateArchiveDto) {
    const archive = await this.passages.updateArchive(callerOrganization(), archiveId, { name: body.name, description: body.description });
    if (!archive) throw archiveNotFound(archiveId);
    return toArchiveView(archive);
  }

  @LettaOperation('delete_archive', 'Delete an archive with its passages', 'Deleted')
  @Delete(':archive_id')
  async remove(@Param('archive_id', ArchiveIdPipe) archiveId: string) {
    if (!(await this.passages.deleteArchive(callerOrganization(), archiveId))) throw archiveNotFound(archiveId);
    return { message: `Archive id=${archiveId} successfully deleted` };
  }

  @LettaOperation('create_passage_in_archive', 'Insert a passage into an archive', 'Passage')
  @Post(':archive_id/passages')
  @HttpCode(200)
  async createPassage(@Param('archive_id', ArchiveIdPipe) archiveId: string, @Body() body: PassageDto) {
    const [row] = await this.archival.insert({ archiveId }, [body]);
    return toPassageView(row);
  }

  @LettaOperation('create_passages_in_archive', 'Insert passages into an archive', { arrayOf: 'Passage' })
  @Post(':archive_id/passages/batch')
  @HttpCode(200)
  async createPassages(@Param('archive_id', ArchiveIdPipe) archiveId: string, @Body() body: PassageBatchDto) {
    return (await this.archival.insert({ archiveId }, body.passages)).map(toPassageView);
  }

  @LettaOperation('delete_passage_from_archive', 'Delete a passage from an archive', 'Deleted')
  @Delete(':archive_id/passages/:passage_id')
  async removePassage(@Param('archive_id', ArchiveIdPipe) archiveId: string, @Param('passage_id', PassageIdPipe) passageId: string) {
    if (!(await this.passages.delete(callerOrganization(), passageId, { archiveId }))) {
      throw new NotFoundException({ detail: `Passage with ID ${passageId} not found in archive ${archiveId}` });
    }
    return { message: `Passage id=${passageId} successfully deleted` };
  }
}

/** `client.agents.archives`: an agent searches every archive attached to it. */
@Controller('v1/agents/:agent_id/archives')
export class AgentArchivesController {
  constructor(private readonly passages: PassageStore) {}

  @LettaOperation('attach_archive_to_agent', 'Attach an archive to an agent', 'Confirmation')
  @Patch('attach/:archive_id')
  async attach(@Param('agent_id', AgentIdPipe) agentId: string, @Param('archive_id', ArchiveIdPipe) archiveId: string) {
    if (!(await this.passages.attach(callerOrganization(), agentId, archiveId))) {
      throw new NotFoundException({ detail: `Agent with ID ${agentId} or archive with ID ${archiveId} not found` });
    }
    return { message: `Archive id=${archiveId} attached to agent id=${agentId}` };
  }

  @LettaOperation('detach_archive_from_agent', 'Detach an archive from an agent', 'Confirmation')
  @Patch('detach/:archive_id')
  async detach(@Param('agent_id', AgentIdPipe) agentId: string, @Param('archive_id', ArchiveIdPipe) archiveId: string) {
    if (!(await this.passages.detach(callerOrganization(), agentId, archiveId))) {
      throw new NotFoundException({ detail: `Archive with ID ${archiveId} is not attached to agent ${agentId}` });
    }
    return { message: `Archive id=${archiveId} detached from agent id=${agentId}` };
  }
}
