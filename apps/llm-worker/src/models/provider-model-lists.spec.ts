import { ModelCallError } from '@lrs/llm-client';
import type { ModelProviders, ProviderClients } from '../model-providers';
import { MODEL_LIST_FAILURE_TTL_MS, MODEL_LIST_TTL_MS, ProviderModelLists } from './provider-model-lists';

function provider(name: string, answer: () => Promise<string[]>) {
  const listModels = jest.fn(answer);
  return { clients: { name, chat: { listModels }, embeddings: {} } as unknown as ProviderClients, listModels };
}

describe('ProviderModelLists', () => {
  let now = 0;
  const up = provider('openai', async () => ['gpt-4o-mini', 'text-embedding-3-small']);
  const down = provider('down', async () => {
    throw new ModelCallError('model endpoint unreachable: Connection error.', 'llm_error', true, null);
  });
  const lists = new ProviderModelLists({ all: [up.clients, down.clients] } as ModelProviders, () => now);

  it("lists every provider, a failed one with its error instead of models", async () => {
    expect(await lists.list()).toEqual({
      providers: [
        { provider: 'openai', models: ['gpt-4o-mini', 'text-embedding-3-small'], error: null },
        { provider: 'down', models: null, error: 'model endpoint unreachable: Connection error.' },
      ],
    });
  });

  it('asks again only once the cache expires, a failure sooner than a list', async () => {
    up.listModels.mockClear();
    down.listModels.mockClear();
    now += MODEL_LIST_FAILURE_TTL_MS - 1;
    await Promise.all([lists.list(), lists.list()]);
    expect([up.listModels.mock.calls.length, down.listModels.mock.calls.length]).toEqual([0, 0]);
    now += 2;
    await Promise.all([lists.list(), lists.list()]);
    expect([up.listModels.mock.calls.length, down.listModels.mock.calls.length]).toEqual([0, 1]);
    now += MODEL_LIST_TTL_MS;
    await lists.list();
    expect([up.listModels.mock.calls.length, down.listModels.mock.calls.length]).toEqual([1, 2]);
  });
});
