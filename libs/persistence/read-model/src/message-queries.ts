import type { DataSource } from 'typeorm';
import { laneIdOf, type ApprovalRequestMessage, type LettaMessage } from '@lrs/contracts';
import { keysetConditions, keysetOrder, numberedParams, type KeysetSort, type PageQuery } from './pagination';

/** Reads of an agent's messages: its history pages, its pending approval, and text search for its tools. */
export class MessageQueries {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The agent's pending approval: tool calls its last executed run paused on, when no message
   * has answered them since and no queued run is about to (a queued approval counts as answered).
   */
  async pendingApproval(agentId: string, conversationId: string | null = null): Promise<ApprovalRequestMessage | null> {
    const rows: { body: LettaMessage; answer_queued: boolean }[] = await this.dataSource.query(
      `SELECT m.body, EXISTS (
         SELECT 1 FROM runs WHERE agent_id = $1 AND conversation_id IS NOT DISTINCT FROM $2 AND status IN ('created', 'running')
           AND input -> 0 ->> 'message_type' = 'approval_response_message'
       ) AS answer_queued
       FROM messages m
       WHERE m.lane_id = $3 AND m.agent_id = $1 AND m.run_id IS NOT NULL
         AND m.sequence_id > coalesce((SELECT starts_after_sequence FROM thread_contexts WHERE lane_id = $3), 0)
       ORDER BY m.sequence_id DESC LIMIT 1`,
      [agentId, conversationId, laneIdOf(agentId, conversationId)],
    );
    const last = rows[0];
    return last && !last.answer_queued && last.body.message_type === 'approval_request_message' ? last.body : null;
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
    where.push(...(await keysetConditions(this.dataSource, page, sort, numberedParams(params))));
    if (includeTypes?.length) {
      params.push(includeTypes);
      where.push(`message_type = ANY ($${params.length})`);
    }
    params.push(page.limit);
    const rows: { body: LettaMessage }[] = await this.dataSource.query(
      `SELECT body FROM messages WHERE ${where.join(' AND ')} ORDER BY ${keysetOrder(sort, page.order)} LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => row.body);
  }

  /** Text search over the agent's whole history (conversation_search), newest first. */
  async searchMessages(
    agentId: string,
    search: { query: string; messageTypes: string[]; limit: number; startDate: string | null; endDate: string | null },
  ): Promise<LettaMessage[]> {
    const rows: { body: LettaMessage }[] = await this.dataSource.query(
      `SELECT body FROM messages
       WHERE agent_id = $1 AND message_type = ANY ($2)
         AND coalesce(body->>'content', body->>'tool_return', '') ILIKE '%' || $3 || '%'
         AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at <= $5)
       ORDER BY sequence_id DESC LIMIT $6`,
      [agentId, search.messageTypes, escapeLike(search.query), search.startDate, search.endDate, search.limit],
    );
    return rows.map((row) => row.body);
  }
}

/** `text` as a LIKE pattern that matches it literally (`%`, `_` and `\` escaped). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
