import { contextWindowOf, embeddingDimOf, isEmbeddingModel, matchesFilter, modelCatalog, providerTypeOf, toLettaEmbeddingModel, toLettaModel } from './model-catalog';

const handles = (entries: { handle: string }[]) => entries.map((entry) => entry.handle);
const lists = [
  { provider: 'openai', models: ['gpt-4o-mini', 'text-embedding-3-small', 'gpt-4o-mini'], error: null },
  { provider: 'ollama', models: ['llama3.1:8b', 'nomic-embed-text:latest'], error: null },
  { provider: 'anthropic', models: null, error: 'model endpoint unreachable' },
];
const configuredHandles = ['anthropic/claude-sonnet-4', 'openai/gpt-4o-mini', 'openai/text-embedding-3-small'];

describe('model classification', () => {
  it('tells embedding models by name', () => {
    expect(['text-embedding-3-small', 'nomic-embed-text', 'mxbai-embed-large', 'voyage/Embed-v3'].every(isEmbeddingModel)).toBe(true);
    expect(['gpt-4o-mini', 'llama3.1:8b', 'claude-sonnet-4'].some(isEmbeddingModel)).toBe(false);
  });

  it('knows the context windows and vector sizes of well-known models, else a default', () => {
    expect(['gpt-4o-mini', 'openai/gpt-4o', 'gpt-4.1-mini', 'claude-sonnet-4', 'anthropic/claude-3.5-haiku', 'o3-mini', 'gpt-4', 'llama3.1:8b'].map(contextWindowOf)).toEqual([
      128_000, 128_000, 1_047_576, 200_000, 200_000, 200_000, 8_192, 128_000,
    ]);
    expect(['text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002', 'nomic-embed-text:latest', 'some-embed'].map(embeddingDimOf)).toEqual([1536, 3072, 1536, 768, 1536]);
  });

  it("gives a provider named after a Letta provider type that type, any other 'openai'", () => {
    expect(['openai', 'anthropic', 'ollama', 'openrouter', 'second', 'my-llm'].map(providerTypeOf)).toEqual(['openai', 'anthropic', 'ollama', 'openrouter', 'openai', 'openai']);
  });
});

describe('modelCatalog', () => {
  it("lists what each provider listed, once, and a failed provider's configured models", () => {
    const catalog = modelCatalog(lists, { allowedModels: [], configuredHandles });
    expect(handles(catalog.chat)).toEqual(['openai/gpt-4o-mini', 'ollama/llama3.1:8b', 'anthropic/claude-sonnet-4']);
    expect(handles(catalog.embedding)).toEqual(['openai/text-embedding-3-small', 'ollama/nomic-embed-text:latest']);
  });

  it('lists every configured model when no provider could be asked', () => {
    const catalog = modelCatalog(null, { allowedModels: [], configuredHandles });
    expect(handles(catalog.chat)).toEqual(['anthropic/claude-sonnet-4', 'openai/gpt-4o-mini']);
    expect(handles(catalog.embedding)).toEqual(['openai/text-embedding-3-small']);
  });

  it('lists only allowed handles when ALLOWED_MODELS is set', () => {
    const allowedModels = ['ollama/llama3.1:8b', 'anthropic/claude-sonnet-4', 'openai/text-embedding-3-small'];
    const catalog = modelCatalog(lists, { allowedModels, configuredHandles: [...allowedModels, 'openai/gpt-4o-mini'] });
    expect(handles(catalog.chat)).toEqual(['ollama/llama3.1:8b', 'anthropic/claude-sonnet-4']);
    expect(handles(catalog.embedding)).toEqual(['openai/text-embedding-3-small']);
  });

  it("filters by Letta's provider_name, provider_type and provider_category", () => {
    const { chat } = modelCatalog(lists, { allowedModels: [], configuredHandles });
    expect(handles(chat.filter((entry) => matchesFilter(entry, { providerName: 'ollama' })))).toEqual(['ollama/llama3.1:8b']);
    expect(handles(chat.filter((entry) => matchesFilter(entry, { providerType: 'anthropic' })))).toEqual(['anthropic/claude-sonnet-4']);
    expect(chat.filter((entry) => matchesFilter(entry, { providerCategories: ['byok'] }))).toEqual([]);
    expect(chat.filter((entry) => matchesFilter(entry, { providerCategories: ['base', 'byok'] }))).toHaveLength(3);
  });
});

describe("Letta's shapes", () => {
  it('fills a Model', () => {
    expect(toLettaModel({ provider: 'openai', model: 'gpt-4o-mini', handle: 'openai/gpt-4o-mini' })).toMatchObject({
      handle: 'openai/gpt-4o-mini',
      name: 'gpt-4o-mini',
      model: 'gpt-4o-mini',
      display_name: 'gpt-4o-mini',
      provider_name: 'openai',
      provider_type: 'openai',
      provider_category: 'base',
      model_endpoint_type: 'openai',
      model_type: 'llm',
      context_window: 128_000,
      max_context_window: 128_000,
    });
  });

  it('fills an EmbeddingModel', () => {
    expect(toLettaEmbeddingModel({ provider: 'second', model: 'text-embedding-3-large', handle: 'second/text-embedding-3-large' })).toMatchObject({
      handle: 'second/text-embedding-3-large',
      name: 'text-embedding-3-large',
      display_name: 'text-embedding-3-large',
      embedding_model: 'text-embedding-3-large',
      embedding_endpoint_type: 'openai',
      embedding_dim: 3072,
      provider_name: 'second',
      provider_type: 'openai',
      model_type: 'embedding',
    });
  });
});
