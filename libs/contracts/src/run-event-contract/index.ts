export * from './schemas';
export * from './upcasters';
export * from './decode';
export * from './examples';
