import { ModelCallError } from '@lrs/llm-client';
import { Env } from '@lrs/config';
import { readProviders } from './config/providers';
import { ModelProviders, PROVIDER_NOT_CONFIGURED } from './model-providers';

const providers = new ModelProviders({
  modelTimeoutMs: 1_000,
  providers: readProviders(new Env({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', PROVIDERS: 'ollama,openrouter', OLLAMA_BASE_URL: 'http://127.0.0.1:2/v1', OPENROUTER_BASE_URL: 'http://127.0.0.1:3/v1' })),
});

describe('ModelProviders.route', () => {
  it.each([
    ['openai/gpt-4o-mini', 'openai', 'gpt-4o-mini'],
    ['ollama/llama3.1:8b', 'ollama', 'llama3.1:8b'],
    ['openrouter/anthropic/claude-sonnet-4', 'openrouter', 'anthropic/claude-sonnet-4'],
    ['gpt-4o-mini', 'openai', 'gpt-4o-mini'],
  ])('sends %s to provider %s as model %s', (handle, provider, model) => {
    const routed = providers.route(handle);
    if (routed instanceof ModelCallError) throw routed;
    expect({ provider: routed.provider.name, model: routed.model }).toEqual({ provider, model });
  });

  it('gives each provider its own clients', () => {
    const [openai, ollama] = [providers.route('openai/a'), providers.route('ollama/a')] as { provider: { chat: unknown; embeddings: unknown } }[];
    expect(openai.provider.chat).not.toBe(ollama.provider.chat);
    expect(openai.provider.embeddings).not.toBe(ollama.provider.embeddings);
  });

  it('answers a handle of an unconfigured provider with a non-retryable error naming it', () => {
    const routed = providers.route('anthropic/claude-sonnet-4');
    expect(routed).toBeInstanceOf(ModelCallError);
    expect(routed).toMatchObject({ errorType: PROVIDER_NOT_CONFIGURED, retryable: false, status: null });
    expect((routed as ModelCallError).message).toBe("model provider 'anthropic' of the handle 'anthropic/claude-sonnet-4' is not configured on this server (configured: openai, ollama, openrouter)");
  });
});
