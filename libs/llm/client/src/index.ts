export { modelNameFromHandle, providerFromHandle, isModelHandle } from '@lrs/contracts';
export * from './chat-messages';
export * from './model-client';
export * from './retry-after';
