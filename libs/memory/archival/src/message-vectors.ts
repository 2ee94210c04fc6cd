import type { DataSource } from 'typeorm';
import { VectorCollections, type StoredVector, type VectorIndexOptions, type VectorSource } from './vector-collections';
import { vectorToBytes } from './vectors';

/** Messages embedded when message embeddings are on: what people and agents say, not system prompts or tool traffic. */
export const EMBEDDED_MESSAGE_TYPES: readonly string[] = ['user_message', 'assistant_message', 'reasoning_message'];
/** The text embedded: a message's first characters (embedding models take about 8,000 tokens). */
export const MESSAGE_EMBEDDING_MAX_CHARS = 8_000;
/** Failed embeddings of a message are retried this many times in all, then it stays found by full text only. */
export const MESSAGE_EMBEDDING_MAX_ATTEMPTS = 5;

/** A message waiting for its vector, with the model of its agent. */
export interface PendingMessage {
  id: string;
  organizationId: string;
  agentId: string;
  laneId: string | null;
  messageType: string;
  createdAt: Date;
  sequenceId: number;
  text: string;
  embeddingModel: string;
}

/** An organization's vectors by one model. */
export interface MessageVectorSet {
  id: string;
  embeddingModel: string;
}

/** Which messages a search by meaning may return, besides their organization. */
export interface MessageVectorFilter {
  agentId?: string | null;
  /** A conversation id, or `default` for the agents' own threads. */
  conversationId?: string | null;
  /** Inclusive bounds on the message's created_at. */
  startMs?: number | null;
  endMs?: number | null;
}

export interface ScoredMessage {
  id: string;
  score: number;
}

interface MessageMeta {
  agentId: string;
  laneId: string | null;
  createdAtMs: number;
}

const PENDING_COLUMNS = `m.id, m.organization_id, m.agent_id, m.lane_id, m.message_type, m.created_at, m.sequence_id,
  left(btrim(message_search_text(m.body)), ${MESSAGE_EMBEDDING_MAX_CHARS}) AS text, coalesce(a.embedding, $2) AS embedding_model`;

/**
 * Message embeddings in Postgres (the migration MessageEmbeddings1732390000000): what is waiting
 * for a vector, the vectors as stored (float32 unit vectors, keyed by message id; a retried write
 * changes nothing), failed attempts, and an organization's sets of vectors by model.
 */
export class MessageEmbeddingStore {
  constructor(private readonly db: Pick<DataSource, 'query'>) {}

  /** Newest message sequence now (0 when there is none). */
  async newestSequence(): Promise<number> {
    const [{ max }]: { max: string | null }[] = await this.db.query(`SELECT max(sequence_id) AS max FROM messages`);
    return Number(max ?? 0);
  }

  /**
   * Messages with text past `afterSequence` that have no embedding row yet, oldest first, then
   * those whose failed attempt is due for a retry.
   */
  async pending(afterSequence: number, limit: number, defaultModel: string): Promise<PendingMessage[]> {
    const fresh: PendingRow[] = await this.db.query(
      `SELECT ${PENDING_COLUMNS} FROM messages m LEFT JOIN agents a ON a.id = m.agent_id
       WHERE m.sequence_id > $3 AND m.message_type = ANY ($1)
         AND NOT EXISTS (SELECT 1 FROM message_embeddings e WHERE e.message_id = m.id)
         AND btrim(message_search_text(m.body)) <> ''
       ORDER BY m.sequence_id LIMIT $4`,
      [EMBEDDED_MESSAGE_TYPES, defaultModel, afterSequence, limit],
    );
    const due: PendingRow[] = fresh.length < limit
      ? await this.db.query(
          `SELECT ${PENDING_COLUMNS} FROM message_embeddings e JOIN messages m ON m.id = e.message_id LEFT JOIN agents a ON a.id = m.agent_id
           WHERE e.embedding IS NULL AND e.retry_at <= now() AND e.attempts < $3 AND m.message_type = ANY ($1)
           ORDER BY e.retry_at LIMIT $4`,
          [EMBEDDED_MESSAGE_TYPES, defaultModel, MESSAGE_EMBEDDING_MAX_ATTEMPTS, limit - fresh.length],
        )
      : [];
    return [...fresh, ...due].map((row) => ({
      id: row.id,
      organizationId: row.organization_id,
      agentId: row.agent_id,
      laneId: row.lane_id,
      messageType: row.message_type,
      createdAt: row.created_at,
      sequenceId: Number(row.sequence_id),
      text: row.text,
      embeddingModel: row.embedding_model,
    }));
  }

  /** The set of the organization's vectors by `model` (made now if there is none). */
  async setFor(organizationId: string, model: string): Promise<string> {
    const [{ id }]: { id: string }[] = await this.db.query(
      `INSERT INTO message_embedding_sets (organization_id, embedding_model) VALUES ($1, $2)
       ON CONFLICT (organization_id, embedding_model) DO UPDATE SET embedding_model = EXCLUDED.embedding_model RETURNING id::text AS id`,
      [organizationId, model],
    );
    return id;
  }

  /** The organization's sets, by model. */
  async setsOf(organizationId: string): Promise<MessageVectorSet[]> {
    const rows: { id: string; embedding_model: string }[] = await this.db.query(
      `SELECT id::text AS id, embedding_model FROM message_embedding_sets WHERE organization_id = $1 ORDER BY id`,
      [organizationId],
    );
    return rows.map((row) => ({ id: row.id, embeddingModel: row.embedding_model }));
  }

  /**
   * Stores the vectors of messages of one set (unit vectors). A message that has one keeps it; a
   * message deleted meanwhile gets none. Answers how many were stored.
   */
  async store(setId: string, messages: readonly PendingMessage[], vectors: readonly Float32Array[]): Promise<number> {
    if (messages.length === 0) return 0;
    const rows: unknown[] = await this.db.query(
      `INSERT INTO message_embeddings (message_id, set_id, agent_id, lane_id, message_type, created_at, embedding, embedding_dim)
       SELECT x.id, $1::bigint, m.agent_id, m.lane_id, m.message_type, m.created_at, x.embedding, x.dim
       FROM unnest($2::text[], $3::bytea[], $4::int[]) AS x (id, embedding, dim) JOIN messages m ON m.id = x.id
       ON CONFLICT (message_id) DO UPDATE
         SET set_id = EXCLUDED.set_id, embedding = EXCLUDED.embedding, embedding_dim = EXCLUDED.embedding_dim, retry_at = NULL,
             seq = nextval(pg_get_serial_sequence('message_embeddings', 'seq'))
         WHERE message_embeddings.embedding IS NULL
       RETURNING 1`,
      [setId, messages.map((m) => m.id), vectors.map(vectorToBytes), vectors.map((v) => v.length)],
    );
    return rows.length;
  }

  /** Records a failed attempt at the messages' vectors: retried after `retryAfterMs`, doubled at each attempt. */
  async recordFailure(setId: string, messages: readonly PendingMessage[], retryAfterMs: number): Promise<void> {
    if (messages.length === 0) return;
    await this.db.query(
      `INSERT INTO message_embeddings (message_id, set_id, agent_id, lane_id, message_type, created_at, attempts, retry_at)
       SELECT m.id, $1::bigint, m.agent_id, m.lane_id, m.message_type, m.created_at, 1, now() + make_interval(secs => $3::float8 / 1000)
       FROM messages m WHERE m.id = ANY ($2)
       ON CONFLICT (message_id) DO UPDATE
         SET attempts = message_embeddings.attempts + 1,
             retry_at = now() + make_interval(secs => $3::float8 / 1000 * power(2, message_embeddings.attempts))
         WHERE message_embeddings.embedding IS NULL`,
      [setId, messages.map((m) => m.id), retryAfterMs],
    );
  }
}

interface PendingRow {
  id: string;
  organization_id: string;
  agent_id: string;
  lane_id: string | null;
  message_type: string;
  created_at: Date;
  sequence_id: string;
  text: string;
  embedding_model: string;
}

/**
 * Exact search by meaning over an organization's message vectors, in this process's memory (see
 * VectorCollections): a set (the organization's vectors by one model) is a collection, kept fresh
 * by its generation (moved on by every deletion) and its vectors' `seq`.
 */
export class MessageVectorIndex {
  private readonly collections: VectorCollections<MessageMeta>;

  constructor(db: Pick<DataSource, 'query'>, options: VectorIndexOptions) {
    this.collections = new VectorCollections(messageVectors(db), options);
  }

  get heldBytes(): number {
    return this.collections.heldBytes;
  }

  /** The `k` messages of the sets most similar to `query` (a unit vector of the sets' model) that pass `filter`, best first. */
  async search(setIds: readonly string[], query: Float32Array, filter: MessageVectorFilter, k: number): Promise<ScoredMessage[]> {
    const hits = await this.collections.search(setIds, query, acceptOf(filter), k);
    return hits.map((hit) => ({ id: hit.id, score: hit.score }));
  }
}

function messageVectors(db: Pick<DataSource, 'query'>): VectorSource<MessageMeta> {
  return {
    async states(setIds) {
      const rows: { id: string; generation: number; max_seq: string | null; count: string }[] = await db.query(
        `SELECT s.id::text AS id, s.generation, v.max_seq, v.count
         FROM message_embedding_sets s,
              LATERAL (SELECT max(e.seq) AS max_seq, count(*) AS count FROM message_embeddings e WHERE e.set_id = s.id AND e.embedding IS NOT NULL) v
         WHERE s.id = ANY ($1::bigint[])`,
        [setIds],
      );
      return rows.map((row) => ({ id: row.id, generation: row.generation, maxSeq: Number(row.max_seq ?? 0), count: Number(row.count), dim: null }));
    },
    async rowsAfter(setId, afterSeq, limit) {
      const rows: { seq: string; message_id: string; agent_id: string; lane_id: string | null; created_at: Date; embedding: Buffer; embedding_dim: number }[] = await db.query(
        `SELECT seq, message_id, agent_id, lane_id, created_at, embedding, embedding_dim FROM message_embeddings
         WHERE set_id = $1 AND embedding IS NOT NULL AND seq > $2 ORDER BY seq LIMIT $3`,
        [setId, afterSeq, limit],
      );
      return rows.map((row): StoredVector<MessageMeta> => ({
        seq: Number(row.seq),
        id: row.message_id,
        embedding: row.embedding,
        dim: row.embedding_dim,
        meta: { agentId: row.agent_id, laneId: row.lane_id, createdAtMs: row.created_at.getTime() },
      }));
    },
  };
}

function acceptOf(filter: MessageVectorFilter): ((meta: MessageMeta) => boolean) | null {
  const { agentId, conversationId } = filter;
  const start = filter.startMs ?? Number.NEGATIVE_INFINITY;
  const end = filter.endMs ?? Number.POSITIVE_INFINITY;
  if (!agentId && !conversationId && start === Number.NEGATIVE_INFINITY && end === Number.POSITIVE_INFINITY) return null;
  return (meta) => {
    if (meta.createdAtMs < start || meta.createdAtMs > end) return false;
    if (agentId && meta.agentId !== agentId) return false;
    // A thread's lane is its conversation's id, or the agent's own id for the default thread.
    if (conversationId === 'default') return meta.laneId === meta.agentId;
    return !conversationId || meta.laneId === conversationId;
  };
}
