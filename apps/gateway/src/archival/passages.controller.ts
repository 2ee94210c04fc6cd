import { Body, Controller, HttpCode, Post, UnprocessableEntityException } from '@nestjs/common';
import { isLettaId } from '@lrs/contracts';
import { PassageStore, toPassageView } from '@lrs/archival-memory';
import { AgentStore } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { callerOrganization } from '../auth/caller';
import { agentNotFound } from '../threads/thread-resolver';
import { PassageSearchDto } from './archival.dto';
import { ArchivalUseCase, archiveNotFound } from './archival.use-case';

const DEFAULT_LIMIT = 50;

/**
 * `client.passages.search`: passages of an agent's archives or of one archive, ranked by meaning
 * when there is a query, else the newest; tags (any/all) and dates filter either way.
 */
@Controller('v1/passages')
export class PassagesController {
  constructor(
    private readonly archival: ArchivalUseCase,
    private readonly passages: PassageStore,
    private readonly agents: AgentStore,
  ) {}

  @LettaOperation('search_passages', 'Search passages', { arrayOf: 'PassageSearchResult' })
  @Post('search')
  @HttpCode(200)
  async search(@Body() body: PassageSearchDto) {
    const organizationId = callerOrganization();
    if (body.agent_id && !isLettaId('agent', body.agent_id)) throw new UnprocessableEntityException({ detail: `agent_id: String should match pattern 'agent-{uuid4}' (got '${body.agent_id}')` });
    if (body.archive_id && !isLettaId('archive', body.archive_id)) throw new UnprocessableEntityException({ detail: `archive_id: String should match pattern 'archive-{uuid4}' (got '${body.archive_id}')` });
    if (!body.agent_id && !body.archive_id) throw new UnprocessableEntityException({ detail: 'Invalid request: give agent_id or archive_id' });
    const filter = { tags: body.tags?.length ? body.tags : null, tagMatchMode: body.tag_match_mode ?? ('any' as const), start: body.start_date ?? null, end: body.end_date ?? null };
    const limit = body.limit ?? DEFAULT_LIMIT;
    // Both given: the archive must be one the agent searches.
    const scope: { archiveId: string } | { agentId: string } = body.archive_id ? { archiveId: body.archive_id } : { agentId: body.agent_id! };
    if (body.agent_id && body.archive_id) {
      const attached = await this.passages.archivesOf(organizationId, body.agent_id);
      if (!attached.some((archive) => archive.id === body.archive_id)) throw archiveNotFound(body.archive_id);
    }
    if (body.query) {
      const found = await this.archival.search(scope, body.query, filter, limit);
      return found.map(({ row, score }) => ({ passage: toPassageView(row), score, metadata: {} }));
    }
    let archiveIds: string[];
    if ('agentId' in scope) {
      if (!(await this.agents.exists(organizationId, scope.agentId))) throw agentNotFound(scope.agentId);
      archiveIds = (await this.passages.archivesOf(organizationId, scope.agentId)).map((archive) => archive.id);
    } else {
      if (!(await this.passages.getArchive(organizationId, scope.archiveId))) throw archiveNotFound(scope.archiveId);
      archiveIds = [scope.archiveId];
    }
    const rows = await this.passages.newest(organizationId, archiveIds, { tags: filter.tags, tagMatchMode: filter.tagMatchMode, start: filter.start ? new Date(filter.start) : null, end: filter.end ? new Date(filter.end) : null }, limit);
    return rows.map((row) => ({ passage: toPassageView(row), score: 0, metadata: {} }));
  }
}
