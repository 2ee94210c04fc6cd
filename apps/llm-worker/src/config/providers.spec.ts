import { Env, EnvError } from '@lrs/config';
import { providerEnvPrefix, readProviders } from './providers';

const read = (source: Record<string, string>) => readProviders(new Env(source));

describe('readProviders', () => {
  it('has openai alone by default, from OPENAI_BASE_URL and OPENAI_API_KEY', () => {
    expect(read({})).toEqual([{ name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'not-set' }]);
    expect(read({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'sk-1' })).toEqual([{ name: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-1' }]);
  });

  it('adds each provider of PROVIDERS from <NAME>_BASE_URL and <NAME>_API_KEY, the key optional', () => {
    const providers = read({
      PROVIDERS: 'anthropic, ollama,open-router',
      ANTHROPIC_BASE_URL: 'https://api.anthropic.com/v1/',
      ANTHROPIC_API_KEY: 'sk-ant',
      OLLAMA_BASE_URL: 'http://localhost:11434/v1',
      OPEN_ROUTER_BASE_URL: 'https://openrouter.ai/api/v1',
      OPEN_ROUTER_API_KEY: 'sk-or',
    });
    expect(providers).toEqual([
      { name: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'not-set' },
      { name: 'anthropic', baseUrl: 'https://api.anthropic.com/v1/', apiKey: 'sk-ant' },
      { name: 'ollama', baseUrl: 'http://localhost:11434/v1', apiKey: 'not-set' },
      { name: 'open-router', baseUrl: 'https://openrouter.ai/api/v1', apiKey: 'sk-or' },
    ]);
  });

  it('takes openai in PROVIDERS as the default provider it already is', () => {
    expect(read({ PROVIDERS: 'openai', OPENAI_BASE_URL: 'http://a/v1' }).map((p) => p.name)).toEqual(['openai']);
  });

  it('refuses a provider without a base URL, naming the variable', () => {
    expect(() => read({ PROVIDERS: 'ollama' })).toThrow(EnvError);
    expect(() => read({ PROVIDERS: 'ollama' })).toThrow(/PROVIDERS names "ollama" but OLLAMA_BASE_URL is not set/);
    expect(() => read({ PROVIDERS: 'ollama', OLLAMA_BASE_URL: '' })).toThrow(/OLLAMA_BASE_URL is not set/);
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => read({ PROVIDERS: 'ollama', OLLAMA_BASE_URL: 'localhost:11434' })).toThrow(/OLLAMA_BASE_URL must be an http\(s\) URL/);
    expect(() => read({ OPENAI_BASE_URL: 'ftp://x/v1' })).toThrow(/OPENAI_BASE_URL must be an http\(s\) URL/);
  });

  it('refuses names that cannot be a handle prefix, repeats, and names sharing variables', () => {
    for (const name of ['Ollama', 'a/b', '9x', 'my provider']) expect(() => read({ PROVIDERS: name, [`${providerEnvPrefix(name)}_BASE_URL`]: 'http://x/v1' })).toThrow(/not a provider name/);
    expect(() => read({ PROVIDERS: 'groq,groq', GROQ_BASE_URL: 'http://x/v1' })).toThrow(/twice/);
    expect(() => read({ PROVIDERS: 'my-llm,my_llm', MY_LLM_BASE_URL: 'http://x/v1' })).toThrow(/both read MY_LLM_BASE_URL/);
  });
});
