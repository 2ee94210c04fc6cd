import { DEFAULT_CONTEXT_WINDOW } from '@lrs/domain-run';
import { modelNameFromHandle, providerFromHandle } from '@lrs/contracts';
import type { ProviderModelList } from '@lrs/jetstream';

/** Letta's ProviderType values; a provider named after one of them has that type, any other is `openai` (its wire). */
export const PROVIDER_TYPES = [
  'anthropic', 'azure', 'baseten', 'bedrock', 'cerebras', 'chatgpt_oauth', 'deepseek', 'fireworks', 'google_ai', 'google_vertex', 'groq',
  'hugging-face', 'letta', 'lmstudio_openai', 'minimax', 'moonshot', 'moonshot_coding', 'mistral', 'ollama', 'openai', 'together', 'vllm',
  'sglang', 'openrouter', 'xai', 'zai', 'zai_coding',
] as const;
export const PROVIDER_CATEGORIES = ['base', 'byok'] as const;

/** Context windows of well-known chat models, by the model name's last path segment; others get the server's default. */
const CONTEXT_WINDOWS: readonly [RegExp, number][] = [
  [/^gpt-4\.1/, 1_047_576],
  [/^gpt-5/, 400_000],
  [/^gpt-4o/, 128_000],
  [/^gpt-4-turbo/, 128_000],
  [/^gpt-4-32k/, 32_768],
  [/^gpt-4(-\d|$)/, 8_192],
  [/^gpt-3\.5-turbo/, 16_385],
  [/^o[134](-|$)/, 200_000],
  [/^claude-/, 200_000],
  [/^gemini-/, 1_048_576],
  [/^deepseek-/, 128_000],
];

/** Vector sizes of well-known embedding models; others are assumed OpenAI's common 1536. */
const EMBEDDING_DIMS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'nomic-embed-text': 768,
  'mxbai-embed-large': 1024,
};
const DEFAULT_EMBEDDING_DIM = 1536;

/** Embedding models are told apart from chat models by name, as providers' lists do not say. */
export function isEmbeddingModel(model: string): boolean {
  return /embed/i.test(model);
}

const baseName = (model: string) => model.slice(model.lastIndexOf('/') + 1).toLowerCase();

export function contextWindowOf(model: string): number {
  const name = baseName(model);
  return CONTEXT_WINDOWS.find(([pattern]) => pattern.test(name))?.[1] ?? DEFAULT_CONTEXT_WINDOW;
}

export function embeddingDimOf(model: string): number {
  return EMBEDDING_DIMS[baseName(model).replace(/:.*$/, '')] ?? DEFAULT_EMBEDDING_DIM;
}

export function providerTypeOf(provider: string): string {
  return (PROVIDER_TYPES as readonly string[]).includes(provider) ? provider : 'openai';
}

/** A model a provider offers: its handle is `<provider>/<model>`. */
export interface CatalogEntry {
  provider: string;
  model: string;
  handle: string;
}

export interface CatalogConfig {
  /** ALLOWED_MODELS: when set, only these handles are listed. */
  allowedModels: readonly string[];
  /** Handles the server is configured with (ALLOWED_MODELS, DEFAULT_MODEL_HANDLE, DEFAULT_EMBEDDING_MODEL): what a provider that cannot be asked is assumed to offer. */
  configuredHandles: readonly string[];
}

/**
 * The models the server can reach: what each provider listed, or, for a provider that could not be
 * asked (or when no provider could: `lists` null), the configured handles naming it; only allowed
 * handles when ALLOWED_MODELS is set; chat and embedding models apart.
 */
export function modelCatalog(lists: readonly ProviderModelList[] | null, config: CatalogConfig): { chat: CatalogEntry[]; embedding: CatalogEntry[] } {
  const configured = config.configuredHandles.map((handle) => ({ provider: providerFromHandle(handle), model: modelNameFromHandle(handle) }));
  const offered = lists
    ? lists.flatMap((list) => (list.models ? list.models.map((model) => ({ provider: list.provider, model })) : configured.filter((entry) => entry.provider === list.provider)))
    : configured;
  const entries = new Map<string, CatalogEntry>();
  for (const { provider, model } of offered) {
    const handle = `${provider}/${model}`;
    if (config.allowedModels.length > 0 && !config.allowedModels.includes(handle)) continue;
    if (!entries.has(handle)) entries.set(handle, { provider, model, handle });
  }
  const all = [...entries.values()];
  return { chat: all.filter((entry) => !isEmbeddingModel(entry.model)), embedding: all.filter((entry) => isEmbeddingModel(entry.model)) };
}

export interface ModelFilter {
  providerName?: string;
  providerType?: string;
  providerCategories?: readonly string[];
}

/** Letta's list filters: every model here is of a `base` provider (configured by the operator, none brought by a user). */
export function matchesFilter(entry: CatalogEntry, filter: ModelFilter): boolean {
  if (filter.providerName !== undefined && entry.provider !== filter.providerName) return false;
  if (filter.providerType !== undefined && providerTypeOf(entry.provider) !== filter.providerType) return false;
  return filter.providerCategories === undefined || filter.providerCategories.includes('base');
}

const providerFields = (entry: CatalogEntry) => ({
  handle: entry.handle,
  name: entry.model,
  display_name: entry.model,
  provider_name: entry.provider,
  provider_type: providerTypeOf(entry.provider),
  provider_category: 'base',
});

/** Letta's `Model` (its deprecated LLMConfig fields included, as Letta still sends them). */
export function toLettaModel(entry: CatalogEntry) {
  const contextWindow = contextWindowOf(entry.model);
  return {
    ...providerFields(entry),
    model: entry.model,
    model_type: 'llm',
    model_endpoint_type: 'openai',
    model_endpoint: null,
    model_wrapper: null,
    context_window: contextWindow,
    max_context_window: contextWindow,
    max_tokens: null,
    enable_reasoner: false,
    reasoning_effort: null,
    parallel_tool_calls: false,
    put_inner_thoughts_in_kwargs: false,
    temperature: 0.7,
  };
}

/** Letta's `EmbeddingModel`. */
export function toLettaEmbeddingModel(entry: CatalogEntry) {
  return {
    ...providerFields(entry),
    model_type: 'embedding',
    embedding_model: entry.model,
    embedding_endpoint_type: 'openai',
    embedding_endpoint: null,
    embedding_dim: embeddingDimOf(entry.model),
    embedding_chunk_size: 300,
    batch_size: 32,
  };
}
