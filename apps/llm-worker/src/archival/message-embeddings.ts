import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEFAULT_EMBEDDING_HANDLE } from '@lrs/contracts';
import { MessageEmbeddingStore, MessageVectorIndex, type PendingMessage, type ScoredMessage } from '@lrs/archival-memory';
import type { MessageSearchReply, MessageSearchRequest } from '@lrs/jetstream';
import { ModelCallError } from '@lrs/llm-client';
import { WORKER_SETTINGS, type WorkerSettings } from '../config/env';
import { ArchivalMemory } from './archival-memory';

/** One sweeper at a time across workers: a message is embedded once, and paid for once. */
const SWEEP_LOCK = 0x6d736776; // "msgv"
/** Messages embedded per model call. */
const BATCH = 64;
/** Batches per sweep at most, so a backlog never holds the lock (and a connection) for long. */
const BATCHES_PER_SWEEP = 20;
/** A transaction still open after this long is not expected: messages older than it are settled. */
const SETTLE_MS = 5 * 60_000;
/** A failed embedding is retried after this (doubled at each attempt). */
const RETRY_AFTER_MS = 30_000;

/**
 * Message embeddings (opt-in: MESSAGE_EMBEDDINGS=true). A sweeper embeds, in the background, the
 * messages with text that have no vector yet, with their agent's embedding model, and stores them
 * (idempotent by message id); runs never wait for it and never see its failures. It also answers
 * the gateway's searches by meaning through this process's vector index.
 *
 * The sweep reads messages past a floor: the newest message sequence seen by a sweep that ended
 * with nothing left to do, at least SETTLE_MS ago (a step's transaction that took a sequence below
 * it would have had to stay open that long); the first sweep after a start reads them all.
 */
@Injectable()
export class MessageEmbeddings implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MessageEmbeddings.name);
  private readonly store: MessageEmbeddingStore;
  private readonly index: MessageVectorIndex;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Sequences below which every message was handled, with when that was seen. */
  private readonly settled: { at: number; sequence: number }[] = [];
  private floor = 0;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly archival: ArchivalMemory,
    @Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings,
  ) {
    this.store = new MessageEmbeddingStore(dataSource);
    this.index = new MessageVectorIndex(dataSource, { maxBytes: settings.archivalIndexMaxBytes });
  }

  onApplicationBootstrap(): void {
    if (this.settings.messageEmbeddings) this.schedule(0);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One sweep: embeds what is waiting, if no other worker is sweeping. Answers how many messages got vectors. */
  async sweep(): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }]: { locked: boolean }[] = await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [SWEEP_LOCK]);
      if (!locked) return 0;
      try {
        return await this.embedPending();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1)`, [SWEEP_LOCK]);
      }
    } finally {
      await runner.release();
    }
  }

  /** The gateway's search by meaning: the query embedded once per model among the organization's vectors. */
  async search(request: MessageSearchRequest): Promise<MessageSearchReply> {
    const sets = await this.store.setsOf(request.organizationId);
    const found: ScoredMessage[] = [];
    const filter = {
      agentId: request.agentId,
      conversationId: request.conversationId,
      startMs: request.startDate === null ? null : Date.parse(request.startDate),
      endMs: request.endDate === null ? null : Date.parse(request.endDate),
    };
    for (const set of sets) {
      const embedded = await this.archival.embed(set.embeddingModel, [request.query]);
      if (embedded instanceof ModelCallError) return { ok: false, status: 502, detail: `The embedding model could not embed the query: ${embedded.message}` };
      found.push(...(await this.index.search([set.id], embedded[0], filter, request.limit)));
    }
    const best = found.sort((a, b) => b.score - a.score).slice(0, request.limit);
    return { ok: true, messageIds: best.map((hit) => hit.id), scores: best.map((hit) => hit.score) };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweep()
        .catch((error: unknown) => this.logger.warn(`message embeddings: sweep failed, retried shortly: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.schedule(this.settings.messageEmbeddingsIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async embedPending(): Promise<number> {
    const newest = await this.store.newestSequence();
    const startedAt = Date.now();
    const defaultModel = this.settings.defaultEmbeddingHandle ?? DEFAULT_EMBEDDING_HANDLE;
    let stored = 0;
    for (let batch = 0; batch < BATCHES_PER_SWEEP && !this.stopped; batch++) {
      const pending = await this.store.pending(this.floor, BATCH, defaultModel);
      for (const group of groupBy(pending)) stored += await this.embedGroup(group);
      if (pending.length < BATCH) {
        this.settle(startedAt, newest);
        break;
      }
    }
    return stored;
  }

  /** Messages of one organization and model: one embedding call; a failure is recorded and retried later. */
  private async embedGroup(messages: PendingMessage[]): Promise<number> {
    const { organizationId, embeddingModel } = messages[0];
    const setId = await this.store.setFor(organizationId, embeddingModel);
    const vectors = await this.archival.embed(embeddingModel, messages.map((message) => message.text));
    if (vectors instanceof ModelCallError) {
      this.logger.warn(`message embeddings: ${embeddingModel} could not embed ${messages.length} messages (retried later): ${vectors.message}`);
      await this.store.recordFailure(setId, messages, RETRY_AFTER_MS);
      return 0;
    }
    return this.store.store(setId, messages, vectors);
  }

  /** Everything up to `sequence` was handled (as of `at`): once that is SETTLE_MS old, sweeps start past it. */
  private settle(at: number, sequence: number): void {
    this.settled.push({ at, sequence });
    while (this.settled.length && this.settled[0].at <= Date.now() - SETTLE_MS) this.floor = Math.max(this.floor, this.settled.shift()!.sequence);
    // One entry a sweep: keep those not yet settled, at most a few thousand.
    if (this.settled.length > 4_096) this.settled.splice(0, this.settled.length - 4_096);
  }
}

function groupBy(messages: readonly PendingMessage[]): PendingMessage[][] {
  const groups = new Map<string, PendingMessage[]>();
  for (const message of messages) {
    const key = `${message.organizationId}\u0000${message.embeddingModel}`;
    groups.set(key, [...(groups.get(key) ?? []), message]);
  }
  return [...groups.values()];
}
