import { isModelHandle, modelNameFromHandle, providerFromHandle } from './model-handle';

describe('modelNameFromHandle', () => {
  it.each([
    ['openai/gpt-4o-mini', 'gpt-4o-mini'],
    ['together/meta-llama/Llama-3-8b', 'meta-llama/Llama-3-8b'],
    ['gpt-4o-mini', 'gpt-4o-mini'],
    ['openai/', ''],
  ])('%s names model %j', (handle, model) => {
    expect(modelNameFromHandle(handle)).toBe(model);
  });
});

describe('providerFromHandle', () => {
  it.each([
    ['openai/gpt-4o-mini', 'openai'],
    ['together/meta-llama/Llama-3-8b', 'together'],
    ['gpt-4o-mini', 'openai'],
  ])('%s names provider %j', (handle, provider) => {
    expect(providerFromHandle(handle)).toBe(provider);
  });
});

describe('isModelHandle', () => {
  it.each(['openai/gpt-4o-mini', 'a/b', 'together/meta-llama/Llama-3-8b'])('accepts %j', (value) => {
    expect(isModelHandle(value)).toBe(true);
  });

  it.each(['gpt-4o-mini', '', '/', '/gpt-4o', 'openai/'])('rejects %j', (value) => {
    expect(isModelHandle(value)).toBe(false);
  });
});
