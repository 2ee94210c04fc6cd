// One Jest run, three projects: pure unit tests, integration tests against real NATS JetStream
// and Postgres, and black-box end-to-end tests that boot every service as its own process.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    `<rootDir>/${target}`,
  ]),
);

// Transpile-only (no type check in tests; `npm run typecheck` and the build do that), with
// decorator metadata for Nest's dependency injection.
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
};

const common = {
  rootDir: __dirname,
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/dist', '<rootDir>/.data'],
  // Nest and class-validator decorators need the Reflect metadata API, as main.ts provides in production.
  setupFiles: ['reflect-metadata'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts', '<rootDir>/deploy/validate/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/e2e/**/*.e2e-spec.ts'], slowTestThreshold: 60 },
    // The scale-out test (a NATS cluster, two processes of every service, faults under load) takes
    // about six minutes of both cores: `npm run test:scale` runs it on its own.
    ...(process.env.LRS_SCALE_TEST === '1'
      ? [{ ...common, displayName: 'scale', testMatch: ['<rootDir>/apps/e2e/**/*.scale-spec.ts'], slowTestThreshold: 600 }]
      : []),
  ],
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  testTimeout: 60_000,
};
