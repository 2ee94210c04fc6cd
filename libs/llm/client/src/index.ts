export * from './model-handle';
export * from './chat-messages';
export * from './model-client';
export * from './retry-after';
