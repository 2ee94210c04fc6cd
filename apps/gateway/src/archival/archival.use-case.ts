import { HttpException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { ArchivalRequests, type ArchivalRequest, type ArchivalSearchFilter } from '@lrs/jetstream';
import { PassageStore, type PassageRow } from '@lrs/archival-memory';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { callerOrganization } from '../auth/caller';
import type { PassageDto } from './archival.dto';

type InsertTarget = Extract<ArchivalRequest, { op: 'insert' }>['target'];
type SearchScope = Extract<ArchivalRequest, { op: 'search' }>['scope'];

/**
 * Archival memory's inserts and searches, which need the embedding model: an llm-worker embeds
 * and stores (or searches) over NATS request/reply, and the rows are read back here. Everything
 * else about archives and passages is plain Postgres (PassageStore).
 */
@Injectable()
export class ArchivalUseCase {
  constructor(
    private readonly requests: ArchivalRequests,
    private readonly passages: PassageStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async insert(target: InsertTarget, passages: readonly PassageDto[]): Promise<PassageRow[]> {
    const organizationId = callerOrganization();
    const request: ArchivalRequest = {
      op: 'insert',
      organizationId,
      target,
      passages: passages.map((passage) => ({ text: passage.text, tags: passage.tags ?? [], createdAt: passage.created_at ?? null, metadata: passage.metadata ?? null })),
    };
    const reply = await this.requests.request(request, this.settings.archivalTimeoutMs);
    if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
    return this.passages.byIds(organizationId, reply.passageIds);
  }

  async search(scope: SearchScope, query: string, filter: ArchivalSearchFilter, topK: number): Promise<{ row: PassageRow; score: number }[]> {
    const organizationId = callerOrganization();
    const reply = await this.requests.request({ op: 'search', organizationId, scope, query, filter, topK }, this.settings.archivalTimeoutMs);
    if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
    const rows = await this.passages.byIds(organizationId, reply.passageIds);
    const scores = new Map(reply.passageIds.map((id, index) => [id, reply.scores?.[index] ?? 0]));
    return rows.map((row) => ({ row, score: scores.get(row.id) ?? 0 }));
  }
}

export function archiveNotFound(archiveId: string): NotFoundException {
  return new NotFoundException({ detail: `Archive with ID ${archiveId} not found` });
}
