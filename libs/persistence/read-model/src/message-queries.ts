import type { DataSource } from 'typeorm';
import { laneIdOf, type ApprovalRequestMessage, type LettaMessage } from '@lrs/contracts';
import { keysetConditions, keysetOrder, numberedParams, type Bind, type KeysetSort, type PageQuery } from './pagination';

/**
 * The longest search query taken (characters): Postgres refuses a tsquery past a size that a
 * query of about a million characters reaches, and no one searches with a book.
 */
export const MESSAGE_SEARCH_MAX_QUERY_CHARS = 10_000;

/** The message types Letta's message search answers (it has a result shape for these only). */
export const SEARCHABLE_MESSAGE_TYPES: readonly string[] = ['system_message', 'user_message', 'reasoning_message', 'assistant_message'];

/** Which of the organization's messages: one agent's, one thread's (`default`: the agents' own threads). */
export interface MessageThreadFilter {
  agentId?: string | null;
  /** A conversation id, or `default` for the agents' own threads. */
  conversationId?: string | null;
}

export interface MessageListFilter extends PageQuery, MessageThreadFilter {
  messageTypes?: string[];
}

interface FullTextSearch {
  query: string;
  messageTypes: readonly string[];
  limit: number;
  /** ISO instants, both inclusive. */
  startDate?: string | null;
  endDate?: string | null;
}

export interface MessageSearch extends MessageThreadFilter, Omit<FullTextSearch, 'messageTypes'> {
  /** Default: SEARCHABLE_MESSAGE_TYPES. */
  messageTypes?: readonly string[];
}

export interface MessageSearchHit {
  message: LettaMessage;
  agentId: string;
  /** Null for a message of an agent's own thread. */
  conversationId: string | null;
  /** ts_rank of the match (normalized by the message's length): higher is better. */
  rank: number;
}

/** Reads of messages: an agent's history pages and pending approval, the organization's list, and full-text search. */
export class MessageQueries {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The agent's pending approval: tool calls its last executed run paused on, when no message
   * has answered them since and no queued run is about to (a queued approval counts as answered).
   */
  async pendingApproval(agentId: string, conversationId: string | null = null): Promise<ApprovalRequestMessage | null> {
    return (await this.agentWithPendingApproval(null, agentId, conversationId)).pending;
  }

  /**
   * Whether the organization has the agent, and the agent's pending approval, in one statement:
   * every run's creation needs both.
   */
  async agentWithPendingApproval(
    organizationId: string | null,
    agentId: string,
    conversationId: string | null,
  ): Promise<{ agentFound: boolean; pending: ApprovalRequestMessage | null }> {
    const [row]: { agent_found: boolean; body: LettaMessage | null; answer_queued: boolean | null }[] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1 AND organization_id = $4) AS agent_found, last.body, last.answer_queued
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (
         SELECT m.body, EXISTS (
           SELECT 1 FROM runs WHERE agent_id = $1 AND conversation_id IS NOT DISTINCT FROM $2 AND status IN ('created', 'running')
             AND input -> 0 ->> 'message_type' = 'approval_response_message'
         ) AS answer_queued
         FROM messages m
         WHERE m.lane_id = $3 AND m.agent_id = $1 AND m.run_id IS NOT NULL
           AND m.sequence_id > coalesce((SELECT starts_after_sequence FROM thread_contexts WHERE lane_id = $3), 0)
         ORDER BY m.sequence_id DESC LIMIT 1
       ) AS last ON true`,
      [agentId, conversationId, laneIdOf(agentId, conversationId), organizationId],
    );
    const pending = row.body && !row.answer_queued && row.body.message_type === 'approval_request_message' ? row.body : null;
    return { agentFound: row.agent_found, pending };
  }

  /**
   * GET /v1/agents/{id}/messages: every message the agent's runs produced or received, in
   * execution order. Cursors name a message and move in the requested order (`after` = further
   * along it), which is what the official client's auto-pagination sends.
   */
  async history(agentId: string, page: PageQuery, includeTypes: string[] | undefined, thread?: { conversationId: string | null }): Promise<LettaMessage[]> {
    const params: unknown[] = [agentId];
    const where = ['agent_id = $1'];
    if (thread) {
      params.push(laneIdOf(agentId, thread.conversationId));
      where.push(`(lane_id = $${params.length} OR run_id IN (SELECT id FROM runs WHERE agent_id = $1 AND lane_id = $${params.length}))`);
    }
    const sort: KeysetSort = { columns: ['sequence_id'], keyOf: (cursor, scope) => `SELECT sequence_id FROM messages WHERE id = ${cursor} AND agent_id = ${scope}`, scope: agentId };
    return this.page(params, where, sort, page, includeTypes);
  }

  /**
   * GET /v1/messages: the organization's messages across agents, in execution order, optionally
   * of one agent and one thread (`default`: the agents' own threads). Cursors as in `history`.
   */
  async list(organizationId: string, filter: MessageListFilter): Promise<LettaMessage[]> {
    const params: unknown[] = [organizationId];
    const where = ['organization_id = $1', ...this.threadConditions(filter, numberedParams(params))];
    const sort: KeysetSort = { columns: ['sequence_id'], keyOf: (cursor, scope) => `SELECT sequence_id FROM messages WHERE id = ${cursor} AND organization_id = ${scope}`, scope: organizationId };
    return this.page(params, where, sort, filter, filter.messageTypes);
  }

  /** GET /v1/messages/{id}: null when the organization has no such message. */
  async find(organizationId: string, messageId: string): Promise<LettaMessage | null> {
    const rows: { body: LettaMessage }[] = await this.dataSource.query(`SELECT body FROM messages WHERE id = $1 AND organization_id = $2`, [messageId, organizationId]);
    return rows[0]?.body ?? null;
  }

  /**
   * POST /v1/messages/search: full-text search over the organization's messages of the types
   * Letta's search answers, best match first (ts_rank, then newest), with the agent and
   * conversation each belongs to.
   */
  async search(organizationId: string, search: MessageSearch): Promise<MessageSearchHit[]> {
    const params: unknown[] = [organizationId];
    const where = ['organization_id = $1', ...this.threadConditions(search, numberedParams(params))];
    return this.fullText(params, where, { ...search, messageTypes: search.messageTypes ?? SEARCHABLE_MESSAGE_TYPES });
  }

  /**
   * The organization's messages among `ids` (a search by meaning found them), in that order, with
   * their agent and conversation; ids of deleted messages or of another organization are left out.
   */
  async hitsByIds(organizationId: string, ids: readonly string[]): Promise<MessageSearchHit[]> {
    if (ids.length === 0) return [];
    const rows: { id: string; body: LettaMessage; agent_id: string; conversation_id: string | null }[] = await this.dataSource.query(
      `SELECT id, body, agent_id, nullif(lane_id, agent_id) AS conversation_id FROM messages WHERE id = ANY ($1) AND organization_id = $2`,
      [ids, organizationId],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.flatMap((id) => {
      const row = byId.get(id);
      return row ? [{ message: row.body, agentId: row.agent_id, conversationId: row.conversation_id, rank: 0 }] : [];
    });
  }

  /** Full-text search over the agent's whole history (conversation_search), best match first. */
  async searchMessages(
    agentId: string,
    search: { query: string; messageTypes: string[]; limit: number; startDate: string | null; endDate: string | null },
  ): Promise<LettaMessage[]> {
    return (await this.fullText([agentId], ['agent_id = $1'], search)).map((hit) => hit.message);
  }

  private threadConditions(filter: MessageThreadFilter, bind: Bind): string[] {
    const where: string[] = [];
    if (filter.agentId) where.push(`agent_id = ${bind(filter.agentId)}`);
    // A thread's lane is its conversation's id, or the agent's own id for the default thread.
    if (filter.conversationId === 'default') where.push('lane_id = agent_id');
    else if (filter.conversationId) where.push(`lane_id = ${bind(filter.conversationId)}`);
    return where;
  }

  private async page(params: unknown[], where: string[], sort: KeysetSort, page: PageQuery, includeTypes: readonly string[] | undefined): Promise<LettaMessage[]> {
    const bind = numberedParams(params);
    where.push(...(await keysetConditions(this.dataSource, page, sort, bind)));
    if (includeTypes?.length) where.push(`message_type = ANY (${bind(includeTypes)})`);
    const rows: { body: LettaMessage }[] = await this.dataSource.query(
      `SELECT body FROM messages WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, page.order)} LIMIT ${bind(page.limit)}`,
      params,
    );
    return rows.map((row) => row.body);
  }

  /**
   * The one full-text query: `search_vector` (the migration MessageSearch1732380000000) matched
   * through its GIN index. `websearch_to_tsquery` never fails on user text (quotes, `or`, `-word`
   * as a web search engine reads them; any other punctuation separates words), and on the `simple`
   * configuration `run-probe` matches the compound word. A query without words matches nothing.
   */
  private async fullText(params: unknown[], where: string[], search: FullTextSearch): Promise<MessageSearchHit[]> {
    const bind = numberedParams(params);
    const query = `websearch_to_tsquery('simple', ${bind(search.query.slice(0, MESSAGE_SEARCH_MAX_QUERY_CHARS))})`;
    where.push(`search_vector @@ ${query}`, `message_type = ANY (${bind(search.messageTypes)})`);
    if (search.startDate) where.push(`created_at >= ${bind(search.startDate)}`);
    if (search.endDate) where.push(`created_at <= ${bind(search.endDate)}`);
    const rows: { body: LettaMessage; agent_id: string; conversation_id: string | null; rank: number }[] = await this.dataSource.query(
      `SELECT body, agent_id, nullif(lane_id, agent_id) AS conversation_id, ts_rank(search_vector, ${query}, 1) AS rank
       FROM messages WHERE ${where.join(' AND ')}
       ORDER BY rank DESC, sequence_id DESC LIMIT ${bind(search.limit)}`,
      params,
    );
    return rows.map((row) => ({ message: row.body, agentId: row.agent_id, conversationId: row.conversation_id, rank: row.rank }));
  }
}

/** `text` as a LIKE pattern that matches it literally (`%`, `_` and `\` escaped). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
