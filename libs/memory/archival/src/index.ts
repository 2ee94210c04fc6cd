export * from './vectors';
export * from './vector-index';
export * from './passage-store';
export * from './views';
export * from './vector-collections';
export * from './message-vectors';
