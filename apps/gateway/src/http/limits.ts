import { MaxLength, type ValidationOptions } from 'class-validator';

/**
 * How much one request may hold: generous for any real client, finite so that nothing accepted
 * fails to be stored or processed (integer columns, Postgres's 65,535 bind parameters per
 * statement, btree index entries of at most ~2,700 bytes). The table is in README.md (Limits).
 */
export const LIMITS = {
  /** Names, labels, tags, model handles: short identifiers, some of them indexed. */
  nameChars: 256,
  /** A memory block's `limit` (characters); the column is a Postgres integer. */
  blockCharLimit: 1_000_000,
  /** `context_window_limit` (tokens). */
  contextWindow: 10_000_000,
  /** Memory blocks created, or shared by id, in one request. */
  blocks: 1_000,
  tags: 100,
  /** `tools`, `tool_rules`, `client_tools` (OpenAI accepts 128 tools per model call). */
  tools: 128,
  toolRules: 1_000,
  /** `messages` of one send, `approvals`/`tool_returns` of one approval, lines of stdout/stderr. */
  messages: 1_000,
  /** `run_ids` of one cancel, `agent_ids` of one list. */
  ids: 1_000,
  /** Lists of enum values (`include_return_message_types`, `statuses`). */
  enumValues: 100,
  /** `clip_chars` of a compaction. */
  clipChars: 10_000_000,
  /** Agents in one imported agent file. */
  agentsPerFile: 100,
  /** An archival passage's text (embedding models take about 8,000 tokens), passages in one batch, search results. */
  passageChars: 32_000,
  passagesPerBatch: 100,
  /** Archival passages an agent file carries per agent (each is embedded again on import). */
  passagesPerAgentFile: 10_000,
  searchResults: 100,
  /** A stream position (`starting_after`). */
  streamPosition: Number.MAX_SAFE_INTEGER,
} as const;

/** Names, labels, tags, model handles and ids: at most `LIMITS.nameChars` characters. */
export const Name = (options?: ValidationOptions): PropertyDecorator => MaxLength(LIMITS.nameChars, options);
