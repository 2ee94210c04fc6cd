export * from './agent-file';
export * from './file-messages';
