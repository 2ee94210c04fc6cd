import { DataSource } from 'typeorm';
import { newId, type LettaMessage } from '@lrs/contracts';
import { createReadModelDataSource, insertOwnedMessages, type MessageOwner } from '@lrs/read-model';
import { createTestDatabase, type TestDatabase } from '@lrs/testing';
import { MessageEmbeddingStore, MessageVectorIndex, type PendingMessage } from './message-vectors';
import { unitVector } from './vectors';

const ORG = newId('org');
const OTHER_ORG = newId('org');
const MODEL = 'openai/text-embedding-3-small';
const DIM = 64;
const T0 = Date.UTC(2026, 0, 1);

/** Hashed words, as the fake model's embeddings: texts sharing words are close. */
function embed(text: string): Float32Array {
  const values = new Array<number>(DIM).fill(0);
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    let hash = 0;
    for (const c of word) hash = (Math.imul(hash, 31) + c.charCodeAt(0)) >>> 0;
    values[hash % DIM] += 1;
  }
  return unitVector(values);
}

/**
 * Message embeddings (the MessageEmbeddings migration, message-vectors.ts) on a real Postgres:
 * what waits for a vector, idempotent stores, failures retried later, and the vector index over
 * an organization's messages: filters, another organization never found, deleted messages gone.
 */
describe('message embeddings and their vector index on a real Postgres', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let store: MessageEmbeddingStore;
  const agentA = newId('agent');
  const agentB = newId('agent');
  const foreignAgent = newId('agent');
  const conversation = newId('conv');
  const rows: { owner: MessageOwner; message: LettaMessage }[] = [];
  const idOf = new Map<string, string>();

  const add = (owner: Omit<MessageOwner, 'runId'>, type: LettaMessage['message_type'], body: Record<string, unknown>, key: string) => {
    const base = { id: newId('message'), date: new Date(T0 + rows.length * 60_000).toISOString(), name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: null };
    const message = { ...base, message_type: type, ...body } as unknown as LettaMessage;
    rows.push({ owner: { ...owner, runId: null }, message });
    idOf.set(key, message.id);
  };
  const own = (agentId: string, laneId = agentId, organizationId = ORG) => ({ organizationId, agentId, laneId });
  const embedAll = async (pending: PendingMessage[]) => {
    let stored = 0;
    for (const organizationId of new Set(pending.map((m) => m.organizationId))) {
      const group = pending.filter((m) => m.organizationId === organizationId);
      stored += await store.store(await store.setFor(organizationId, MODEL), group, group.map((m) => embed(m.text)));
    }
    return stored;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createReadModelDataSource({ url: database.url }).initialize();
    store = new MessageEmbeddingStore(dataSource);
    add(own(agentA), 'user_message', { content: 'my favourite fruit is the mango' }, 'mango');
    add(own(agentA), 'assistant_message', { content: 'the weather in oslo is cold and grey' }, 'weather');
    add(own(agentA), 'reasoning_message', { reasoning: 'the user likes tropical fruit' }, 'reasoning');
    add(own(agentA), 'system_message', { content: 'system prompt about fruit' }, 'system');
    add(own(agentA), 'user_message', { content: '   ' }, 'blank');
    add(own(agentA, conversation), 'user_message', { content: [{ type: 'text', text: 'a mango smoothie in a conversation' }] }, 'conversation');
    add(own(agentB), 'user_message', { content: 'agent b eats mango too' }, 'agent-b');
    add(own(foreignAgent, foreignAgent, OTHER_ORG), 'user_message', { content: 'mango secret of another organization' }, 'foreign');
    await insertOwnedMessages(dataSource.manager, rows);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('embeds messages with text of the embedded types once, and searches them by meaning within the organization and filters', async () => {
    const pending = await store.pending(0, 100, MODEL);
    expect(new Set(pending.map((m) => m.id))).toEqual(new Set(['mango', 'weather', 'reasoning', 'conversation', 'agent-b', 'foreign'].map((key) => idOf.get(key))));
    expect(pending.find((m) => m.id === idOf.get('conversation'))).toMatchObject({ laneId: conversation, text: expect.stringContaining('mango smoothie'), embeddingModel: MODEL });
    expect(await embedAll(pending)).toBe(6);
    // A retried write stores nothing again, and nothing is left waiting.
    expect(await embedAll(pending)).toBe(0);
    expect(await store.pending(0, 100, MODEL)).toEqual([]);
    expect(await store.pending(pending.at(-1)!.sequenceId, 100, MODEL)).toEqual([]);

    const index = new MessageVectorIndex(dataSource, { maxBytes: 1024 * 1024 });
    const sets = (await store.setsOf(ORG)).map((set) => set.id);
    const found = async (query: string, filter = {}, k = 10) => (await index.search(sets, embed(query), filter, k)).map((hit) => hit.id);
    expect((await found('which fruit is a mango', {}, 1))[0]).toBe(idOf.get('mango'));
    expect(await found('mango')).not.toContain(idOf.get('foreign'));
    expect(await found('mango', { agentId: agentB })).toEqual([idOf.get('agent-b')]);
    expect(await found('mango', { conversationId: conversation })).toEqual([idOf.get('conversation')]);
    expect(new Set(await found('mango', { conversationId: 'default', agentId: agentA }))).toEqual(new Set(['mango', 'weather', 'reasoning'].map((key) => idOf.get(key))));
    expect(await found('mango', { startMs: T0, endMs: T0 + 60_000 })).toEqual([idOf.get('mango'), idOf.get('weather')]);
    const foreignSets = (await store.setsOf(OTHER_ORG)).map((set) => set.id);
    expect((await index.search(foreignSets, embed('mango'), {}, 10)).map((hit) => hit.id)).toEqual([idOf.get('foreign')]);

    // A deleted message (a reset thread, a deleted agent) is gone from the index it had loaded.
    await dataSource.query(`DELETE FROM messages WHERE id = $1`, [idOf.get('mango')]);
    expect(await found('which fruit is a mango')).not.toContain(idOf.get('mango'));
    expect(await found('weather in oslo', {}, 1)).toEqual([idOf.get('weather')]);
  });

  it('records a failed attempt, retries it when due, and skips messages deleted meanwhile', async () => {
    const extra: { owner: MessageOwner; message: LettaMessage }[] = [];
    for (const text of ['papaya later', 'deleted before its vector']) {
      extra.push({
        owner: { ...own(agentA), runId: null },
        message: { id: newId('message'), date: new Date().toISOString(), name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: null, message_type: 'user_message', content: text } as unknown as LettaMessage,
      });
    }
    await insertOwnedMessages(dataSource.manager, extra);
    const pending = await store.pending(0, 100, MODEL);
    expect(pending.map((m) => m.text)).toEqual(['papaya later', 'deleted before its vector']);
    const setId = await store.setFor(ORG, MODEL);
    await store.recordFailure(setId, pending, 0);
    await store.recordFailure(setId, pending, 0);
    const attempts: { attempts: number }[] = await dataSource.query(`SELECT attempts FROM message_embeddings WHERE message_id = $1`, [pending[0].id]);
    expect(attempts).toEqual([{ attempts: 2 }]);
    // Due now: found again even past the floor.
    expect((await store.pending(Number.MAX_SAFE_INTEGER, 100, MODEL)).map((m) => m.id)).toEqual(pending.map((m) => m.id));
    await dataSource.query(`DELETE FROM messages WHERE id = $1`, [pending[1].id]);
    expect(await store.store(setId, pending, pending.map((m) => embed(m.text)))).toBe(1);
    const index = new MessageVectorIndex(dataSource, { maxBytes: 1024 * 1024 });
    expect((await index.search([setId], embed('papaya'), {}, 1)).map((hit) => hit.id)).toEqual([pending[0].id]);
    expect(await store.pending(0, 100, MODEL)).toEqual([]);
  });
});
