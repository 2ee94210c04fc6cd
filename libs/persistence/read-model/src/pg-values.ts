import type { EntityManager } from 'typeorm';
import type { LettaMessage } from '@lrs/contracts';
import { messageTokens } from '@lrs/domain-run';
import { namedStatement, runNamed } from './named-statements';

/**
 * Postgres refuses two things JavaScript strings may hold: NUL (in text and jsonb) and lone UTF-16
 * surrogates (in jsonb). The API refuses both on input; this is the storage layer's own guard, so
 * that no value that reached the event log can make a write fail for ever. Such characters become
 * U+FFFD, the replacement character, in what is stored.
 */
const UNSTORABLE_SOURCE = '\\u0000|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';
const HAS_UNSTORABLE = new RegExp(UNSTORABLE_SOURCE);
const UNSTORABLE = new RegExp(UNSTORABLE_SOURCE, 'g');
/** What JSON.stringify writes for those characters. */
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

export function storableText<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' && HAS_UNSTORABLE.test(value) ? value.replace(UNSTORABLE, '\uFFFD') : value) as T;
}

/** JSON text Postgres accepts as jsonb: the common case costs one scan of the serialized text. */
export function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!UNSTORABLE_ESCAPE.test(json)) return json;
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'string' ? storableText(item) : item));
}

export interface MessageOwner {
  organizationId: string;
  agentId: string;
  /** The thread the messages belong to. */
  laneId: string;
  /** Null for messages made outside any run (compaction summaries, imported history). */
  runId: string | null;
}

/**
 * Inserts messages in the given order (their sequence ids follow it); ids already stored are left
 * alone. With `replacingStep`, in the same statement, that step's rows other than these go first
 * (an earlier attempt's).
 */
export async function insertMessages(manager: EntityManager, owner: MessageOwner, messages: readonly LettaMessage[], options: { replacingStep?: string } = {}): Promise<{ stepHasOtherRows: boolean }> {
  const rows = messages.map((message) => ({ owner, message }));
  if (!options.replacingStep) {
    await insertOwnedMessages(manager, rows);
    return { stepHasOtherRows: false };
  }
  // The same statement tells whether the step has memory edits, block changes or archival passages committed (an
  // earlier attempt's, to be taken back when this write has none): such a step stays one round trip.
  const [{ edited }]: { edited: boolean }[] = await runNamed(manager, REPLACE_STEP_MESSAGES, [
    messageRowsJson(rows),
    owner.runId,
    options.replacingStep,
    messages.map((message) => message.id),
  ]);
  return { stepHasOtherRows: edited };
}

/**
 * The same for messages of several runs at once (a projection batch): one statement. Without
 * `countTokens` the rows get no token count (they are counted when read): for the projector, whose
 * inserts almost always find the run path's rows, with their counts, already there.
 */
export async function insertOwnedMessages(
  manager: EntityManager,
  rows: readonly { owner: MessageOwner; message: LettaMessage }[],
  options: { countTokens?: boolean; exceptReset?: boolean } = {},
): Promise<void> {
  if (rows.length === 0) return;
  await runNamed(manager, options.exceptReset ? RESTORE_MESSAGES : INSERT_MESSAGES, [messageRowsJson(rows, options.countTokens ?? true)]);
}

const insertMessagesSql = (where: string) => `INSERT INTO messages (id, organization_id, agent_id, run_id, lane_id, step_id, message_type, otid, created_at, body, token_count)
     SELECT m.item ->> 'id', m.item ->> 'organization_id', m.item ->> 'agent_id', m.item ->> 'run_id', m.item ->> 'lane_id',
            m.item ->> 'step_id', m.item ->> 'message_type', m.item ->> 'otid', (m.item ->> 'created_at')::timestamptz, m.item -> 'body',
            (m.item ->> 'token_count')::int
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS m(item, n)
     ${where}
     ORDER BY m.n
     ON CONFLICT (id) DO NOTHING`;
const INSERT_MESSAGES_SQL = insertMessagesSql('');
const INSERT_MESSAGES = namedStatement(INSERT_MESSAGES_SQL);
/** The same, leaving out messages made before their thread's last reset, which deleted them. */
const RESTORE_MESSAGES = namedStatement(
  insertMessagesSql(`WHERE NOT EXISTS (SELECT 1 FROM thread_contexts t WHERE t.lane_id = m.item ->> 'lane_id' AND t.reset_at >= (m.item ->> 'created_at')::timestamptz)`),
);
/**
 * A step's rows written again as a whole (an earlier attempt's other rows of the step go); it also
 * tells whether the step has memory edits, block changes or archival passages committed.
 */
const REPLACE_STEP_MESSAGES = namedStatement(
  `WITH replaced AS (DELETE FROM messages WHERE run_id = $2 AND step_id = $3 AND id <> ALL ($4)), inserted AS (${INSERT_MESSAGES_SQL} RETURNING 1)
   SELECT EXISTS (SELECT 1 FROM block_edits WHERE step_id = $3 AND reverted_at IS NULL) OR EXISTS (SELECT 1 FROM passages WHERE step_id = $3)
     OR EXISTS (SELECT 1 FROM block_changes WHERE step_id = $3 AND reverted_at IS NULL) AS edited`,
);

function messageRowsJson(rows: readonly { owner: MessageOwner; message: LettaMessage }[], countTokens = true): string {
  return storableJson(
    rows.map(({ owner, message }) => ({
      id: message.id,
      organization_id: owner.organizationId,
      agent_id: owner.agentId,
      run_id: owner.runId,
      lane_id: owner.laneId,
      step_id: message.step_id ?? null,
      message_type: message.message_type,
      otid: message.otid ?? null,
      created_at: message.date,
      body: message,
      // Counted once here, so prompt building never re-counts the thread's history.
      token_count: countTokens ? messageTokens(message) : null,
    })),
  );
}

/** Postgres's foreign_key_violation: what a row refers to was deleted meanwhile. */
export const FOREIGN_KEY_VIOLATION = '23503';

/** The SQLSTATE of a failed statement (pg's error, or TypeORM's wrapping of it), if it is one. */
export function sqlStateOf(exception: unknown): string | null {
  if (!(exception instanceof Error)) return null;
  const code = (exception as { code?: unknown }).code;
  const driverError = (exception as { driverError?: { code?: unknown } }).driverError;
  return typeof code === 'string' ? code : typeof driverError?.code === 'string' ? driverError.code : null;
}
