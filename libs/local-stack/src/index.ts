export * from './ports';
export * from './nats-server';
export * from './postgres';
export * from './services';
