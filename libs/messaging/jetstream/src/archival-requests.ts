import type { NatsConnection } from '@nats-io/transport-node';
import { WorkerRequests, type WorkerReply } from './worker-requests';

/** A passage as a client sends it for archival memory. */
export interface PassageInput {
  text: string;
  tags: string[];
  createdAt: string | null;
  metadata: Record<string, unknown> | null;
}

/** Filters of an archival search, as the routes and the search tool take them. */
export interface ArchivalSearchFilter {
  tags: string[] | null;
  tagMatchMode: 'any' | 'all';
  start: string | null;
  end: string | null;
}

/**
 * What only an llm-worker can do for archival memory, because it needs the embedding model:
 * store passages (each embedded first, never stored without its vector) in an agent's own
 * archive or a named one, and search by meaning (the query embedded with each archive's model).
 */
export type ArchivalRequest =
  | { op: 'insert'; organizationId: string; target: { agentId: string } | { archiveId: string }; passages: PassageInput[] }
  | {
      op: 'search';
      organizationId: string;
      scope: { agentId: string } | { archiveId: string } | { archiveIds: string[] };
      query: string;
      filter: ArchivalSearchFilter;
      topK: number;
    };

/** Stored passages answer their ids; a search answers ids with scores, best first. The gateway reads the rows. */
export interface ArchivalResult {
  passageIds: string[];
  scores?: number[];
}

export type ArchivalReply = WorkerReply<ArchivalResult>;

export const ARCHIVAL_REQUESTS = 'llm.archival';

export class ArchivalRequests extends WorkerRequests<ArchivalRequest, ArchivalResult> {
  constructor(nc: NatsConnection) {
    super(nc, ARCHIVAL_REQUESTS, { action: 'embed and store or search passages', afterTimeout: 'passages may have been stored; list them to see' });
  }
}

/** A search of an organization's messages by meaning (POST /v1/messages/search, `vector` and `hybrid`). */
export interface MessageSearchRequest {
  organizationId: string;
  query: string;
  agentId: string | null;
  /** A conversation id, or `default` for the agents' own threads. */
  conversationId: string | null;
  /** ISO instants, both inclusive. */
  startDate: string | null;
  endDate: string | null;
  limit: number;
}

/** Message ids with their similarity, best first; the gateway reads the messages. */
export interface MessageSearchResult {
  messageIds: string[];
  scores: number[];
}

export type MessageSearchReply = WorkerReply<MessageSearchResult>;

export const MESSAGE_SEARCH_REQUESTS = 'llm.message-search';

/** Message search by meaning needs the query embedded: only an llm-worker can. */
export class MessageSearchRequests extends WorkerRequests<MessageSearchRequest, MessageSearchResult> {
  constructor(nc: NatsConnection) {
    super(nc, MESSAGE_SEARCH_REQUESTS, { action: 'search messages by meaning', afterTimeout: 'nothing was changed' });
  }
}
