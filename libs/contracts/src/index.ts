export * from './ids';
export * from './letta-wire';
export * from './run-events';
export * from './messaging';
export * from './version';
export * from './base-tools';
export * from './run-event-contract';
export * from './model-handle';
