export * from './connection';
export * from './provisioning';
export * from './run-event-store';
export * from './lane-store';
export * from './run-event-watcher';
export * from './consumer-runner';
export * from './jetstream.module';
export * from './token-delta-bus';
