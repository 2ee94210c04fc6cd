import { Env, EnvError } from '@lrs/config';

/** One OpenAI-compatible endpoint, named by the first part of the model handles it serves. */
export interface ProviderConfig {
  /** `openai` in `openai/gpt-4o-mini`. */
  name: string;
  baseUrl: string;
  /** A placeholder when the endpoint needs no key (a local Ollama): the SDK always sends one. */
  apiKey: string;
}

/** The default provider: every handle before PROVIDERS existed, and `openai/...` still. */
export const DEFAULT_PROVIDER = 'openai';
const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
const NO_API_KEY = 'not-set';
const PROVIDER_NAME = /^[a-z][a-z0-9_-]*$/;

/** The environment prefix of a provider's variables: `openrouter` -> `OPENROUTER`, `my-llm` -> `MY_LLM`. */
export function providerEnvPrefix(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/**
 * The model providers: `openai` from OPENAI_BASE_URL / OPENAI_API_KEY (as before PROVIDERS
 * existed), plus each name in PROVIDERS (comma-separated) from `<NAME>_BASE_URL` (required) and
 * `<NAME>_API_KEY` (optional). A bad name or a missing or malformed base URL fails the start.
 */
export function readProviders(env = new Env()): ProviderConfig[] {
  const providers = new Map<string, ProviderConfig>();
  const prefixes = new Map<string, string>();
  providers.set(DEFAULT_PROVIDER, {
    name: DEFAULT_PROVIDER,
    baseUrl: checkedBaseUrl('OPENAI_BASE_URL', env.string('OPENAI_BASE_URL', DEFAULT_OPENAI_BASE_URL)),
    apiKey: env.string('OPENAI_API_KEY', NO_API_KEY),
  });
  prefixes.set('OPENAI', DEFAULT_PROVIDER);
  for (const name of env.list('PROVIDERS')) {
    if (!PROVIDER_NAME.test(name)) {
      throw new EnvError(`PROVIDERS: "${name}" is not a provider name (lower-case letters, digits, '-' and '_', starting with a letter), as in the handle "${name}/<model>"`);
    }
    if (providers.has(name)) {
      if (name === DEFAULT_PROVIDER) continue;
      throw new EnvError(`PROVIDERS names "${name}" twice`);
    }
    const prefix = providerEnvPrefix(name);
    const clash = prefixes.get(prefix);
    if (clash) throw new EnvError(`PROVIDERS: "${name}" and "${clash}" would both read ${prefix}_BASE_URL; rename one`);
    prefixes.set(prefix, name);
    const baseUrlVariable = `${prefix}_BASE_URL`;
    if (env.optionalString(baseUrlVariable) === null) {
      throw new EnvError(`PROVIDERS names "${name}" but ${baseUrlVariable} is not set: give its OpenAI-compatible endpoint, e.g. ${baseUrlVariable}=https://host/v1`);
    }
    providers.set(name, { name, baseUrl: checkedBaseUrl(baseUrlVariable, env.string(baseUrlVariable)), apiKey: env.string(`${prefix}_API_KEY`, NO_API_KEY) });
  }
  return [...providers.values()];
}

/** The value of a base URL variable, refused at start unless it is an http(s) URL. (Read at the call, by name, so the deploy checks see which variables are read.) */
function checkedBaseUrl(variable: string, value: string): string {
  const url = URL.parse(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new EnvError(`${variable} must be an http(s) URL, got "${value}"`);
  return value;
}
