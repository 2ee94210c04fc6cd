export * from './in-memory-run-event-store';
export * from './in-memory-lane-store';
export * from './contracts';
