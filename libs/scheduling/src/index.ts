export * from './schedule-spec';
