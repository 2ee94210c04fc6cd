export * from './env';
export * from './bootstrap';
export * from './poll';
export * from './startup-retries';
export * from './readiness';
export * from './metrics';
export * from './service-logger';
export * from './loopback';
