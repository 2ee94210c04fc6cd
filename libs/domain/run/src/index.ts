export * from './run-status';
export * from './run-decider';
export * from './lane';
export * from './system-prompt';
export * from './memory-edits';
export * from './stream-chunks';
export * from './approval-denial';
