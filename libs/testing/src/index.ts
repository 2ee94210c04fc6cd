export * from './test-database';
export * from './test-nats';
export * from './callback-receiver';
export * from './test-stack';
export * from './embedded-postgres';
export * from './run-events';
export * from './fakes';
export * from './nats-cluster';
