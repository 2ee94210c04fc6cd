/** `openai/gpt-4o-mini` (and any `<provider>/<model>`) names `gpt-4o-mini` at the configured endpoint. */
export function modelNameFromHandle(handle: string): string {
  const slash = handle.indexOf('/');
  return slash < 0 ? handle : handle.slice(slash + 1);
}

export function providerFromHandle(handle: string): string {
  const slash = handle.indexOf('/');
  return slash < 0 ? 'openai' : handle.slice(0, slash);
}

export function isModelHandle(value: string): boolean {
  const slash = value.indexOf('/');
  return slash > 0 && slash < value.length - 1;
}

/** The embedding model an agent uses when it names none (Letta's default). */
export const DEFAULT_EMBEDDING_HANDLE = 'openai/text-embedding-3-small';
