import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { newId, type ArchivalInsert } from '@lrs/contracts';
import { PassageStore, VectorIndex, unitVector, type ArchiveRow, type NewPassage, type PassageWriter, type ScoredPassage, type SearchableArchive } from '@lrs/archival-memory';
import type { ArchivalReply, ArchivalRequest, ArchivalSearchFilter, PassageInput } from '@lrs/jetstream';
import { ModelCallError } from '@lrs/llm-client';
import { AgentStore, FOREIGN_KEY_VIOLATION, sqlStateOf, type AgentSnapshot } from '@lrs/read-model';
import { WORKER_SETTINGS, type WorkerSettings } from '../config/env';
import { ModelCaller } from '../model-caller';

/** A passage a step's tool made: embedded at once, stored with the step's rows. */
export interface StepPassage extends ArchivalInsert {
  embedding: Float32Array;
}

/**
 * Archival memory as the llm-worker serves it: passages embedded with their archive's model
 * (retried like model calls; a passage is never stored without its vector), and searched by meaning
 * through this process's vector index. The gateway asks for inserts and searches over NATS; a
 * step's tools use it directly, and a step's passages are written with its rows (StepRecords).
 */
@Injectable()
export class ArchivalMemory {
  private readonly index: VectorIndex;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly passages: PassageStore,
    private readonly agents: AgentStore,
    private readonly model: ModelCaller,
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
  ) {
    this.index = new VectorIndex(dataSource, { maxBytes: settings.archivalIndexMaxBytes });
  }

  /** The embedding model of an agent's own archive: its `embedding` handle, else the server's default. */
  embeddingHandleOf(agent: Pick<AgentSnapshot, 'embedding'>): string {
    return agent.embedding ?? this.settings.defaultEmbeddingHandle;
  }

  /** Unit vectors of `texts` by the model a handle names, or the model's error. */
  async embed(handle: string, texts: readonly string[], onRetry?: () => void): Promise<Float32Array[] | ModelCallError> {
    const vectors = await this.model.embedWithRetries(handle, texts, onRetry);
    return vectors instanceof ModelCallError ? vectors : vectors.map(unitVector);
  }

  /** The `topK` passages of `archives` closest in meaning to `query` that pass the filter, best first. */
  async search(archives: readonly SearchableArchive[], query: string, filter: ArchivalSearchFilter, topK: number, onRetry?: () => void): Promise<ScoredPassage[] | ModelCallError> {
    const byModel = new Map<string, string[]>();
    for (const archive of archives) byModel.set(archive.embeddingModel, [...(byModel.get(archive.embeddingModel) ?? []), archive.id]);
    const found: ScoredPassage[] = [];
    for (const [handle, archiveIds] of byModel) {
      const embedded = await this.embed(handle, [query], onRetry);
      if (embedded instanceof ModelCallError) return embedded;
      const passageFilter = {
        tags: filter.tags,
        tagMatchMode: filter.tagMatchMode,
        startMs: filter.start === null ? null : Date.parse(filter.start),
        endMs: filter.end === null ? null : Date.parse(filter.end),
      };
      found.push(...(await this.index.search(archiveIds, embedded[0], passageFilter, topK)));
    }
    return found.sort((a, b) => b.score - a.score).slice(0, topK);
  }

  /** The gateway's requests: store passages, or search. */
  async answer(request: ArchivalRequest): Promise<ArchivalReply> {
    return request.op === 'insert' ? this.insert(request) : this.searchFor(request);
  }

  /** Writes a step's passages into the agent's own archive, inside the step's transaction. */
  static async writeStepPassages(manager: EntityManager, agent: { organizationId: string; id: string; name: string }, embeddingHandle: string, writer: PassageWriter, passages: readonly StepPassage[]): Promise<void> {
    if (passages.length === 0) return;
    const archive = await PassageStore.ownArchive(manager, agent.organizationId, agent, embeddingHandle);
    await PassageStore.insert(manager, archive, writer, passages.map((passage) => ({ ...passage, createdAt: new Date(passage.createdAt) })));
  }

  /** Stores the passages of a tool run outside runs (agents.tools.run), at once. */
  async storeToolRunPassages(agent: AgentSnapshot, passages: readonly StepPassage[]): Promise<void> {
    if (passages.length === 0) return;
    await this.dataSource.transaction((manager) => ArchivalMemory.writeStepPassages(manager, agent, this.embeddingHandleOf(agent), { agentId: agent.id }, passages));
  }

  /**
   * The passages of a step outcome read from the log, with their vectors: those already stored
   * need none (the insert leaves them as they are); the others are embedded again.
   */
  async fromLog(agent: AgentSnapshot, inserts: readonly ArchivalInsert[]): Promise<StepPassage[] | ModelCallError> {
    const stored = await PassageStore.storedIds(this.dataSource.manager, inserts.map((insert) => insert.id));
    const missing = inserts.filter((insert) => !stored.has(insert.id));
    const vectors = missing.length ? await this.embed(this.embeddingHandleOf(agent), missing.map((insert) => insert.text)) : [];
    if (vectors instanceof ModelCallError) return vectors;
    return missing.map((insert, index) => ({ ...insert, embedding: vectors[index] }));
  }

  private async insert(request: Extract<ArchivalRequest, { op: 'insert' }>): Promise<ArchivalReply> {
    const { organizationId, target } = request;
    const agent = 'agentId' in target ? await this.agents.get(organizationId, target.agentId) : null;
    if ('agentId' in target && !agent) return { ok: false, status: 404, detail: `Agent with ID ${target.agentId} not found` };
    const archive = 'archiveId' in target ? await this.passages.getArchive(organizationId, target.archiveId) : null;
    if ('archiveId' in target && !archive) return { ok: false, status: 404, detail: `Archive with ID ${target.archiveId} not found` };
    const handle = archive?.embedding_model ?? (await this.ownArchiveModel(agent!));
    const vectors = await this.embed(handle, request.passages.map((passage) => passage.text));
    if (vectors instanceof ModelCallError) return { ok: false, status: 502, detail: `The embedding model could not embed the passages: ${vectors.message}; nothing was stored` };
    const passages = request.passages.map((input, index) => newPassage(input, vectors[index]));
    const stored = await this.dataSource
      .transaction(async (manager) => {
        const locked: ArchiveRow | null = agent
          ? await PassageStore.ownArchive(manager, organizationId, agent, handle)
          : await PassageStore.lockArchive(manager, organizationId, archive!.id);
        if (!locked) return null;
        return PassageStore.insert(manager, locked, { agentId: agent?.id ?? null }, passages);
      })
      // The agent was deleted while its passages were embedded: its archive's row cannot refer to it.
      .catch((error: unknown) => (sqlStateOf(error) === FOREIGN_KEY_VIOLATION ? null : Promise.reject(error)));
    if (!stored) return { ok: false, status: 404, detail: 'agentId' in target ? `Agent with ID ${target.agentId} not found` : `Archive with ID ${target.archiveId} not found` };
    return { ok: true, passageIds: stored.map((row) => row.id) };
  }

  /** The model of the agent's own archive: the archive's if it exists (made with an earlier model), else the agent's. */
  async ownArchiveModel(agent: AgentSnapshot): Promise<string> {
    const own = (await this.passages.archivesOf(agent.organizationId, agent.id)).find((archive) => archive.ownerAgentId === agent.id);
    return own?.embeddingModel ?? this.embeddingHandleOf(agent);
  }

  private async searchFor(request: Extract<ArchivalRequest, { op: 'search' }>): Promise<ArchivalReply> {
    const { organizationId, scope } = request;
    let archives: SearchableArchive[];
    if ('agentId' in scope) {
      if (!(await this.agents.exists(organizationId, scope.agentId))) return { ok: false, status: 404, detail: `Agent with ID ${scope.agentId} not found` };
      archives = await this.passages.archivesOf(organizationId, scope.agentId);
    } else {
      const ids = 'archiveId' in scope ? [scope.archiveId] : scope.archiveIds;
      const rows = await Promise.all(ids.map((id) => this.passages.getArchive(organizationId, id)));
      const missing = ids.find((_, index) => rows[index] === null);
      if (missing !== undefined) return { ok: false, status: 404, detail: `Archive with ID ${missing} not found` };
      archives = rows.map((row) => ({ id: row!.id, embeddingModel: row!.embedding_model, ownerAgentId: row!.owner_agent_id }));
    }
    const found = await this.search(archives, request.query, request.filter, request.topK);
    if (found instanceof ModelCallError) return { ok: false, status: 502, detail: `The embedding model could not embed the query: ${found.message}` };
    return { ok: true, passageIds: found.map((hit) => hit.id), scores: found.map((hit) => hit.score) };
  }
}

function newPassage(input: PassageInput, embedding: Float32Array): NewPassage {
  return {
    id: newId('passage'),
    text: input.text,
    tags: [...new Set(input.tags)],
    metadata: input.metadata,
    createdAt: input.createdAt ? new Date(input.createdAt) : new Date(),
    embedding,
  };
}
