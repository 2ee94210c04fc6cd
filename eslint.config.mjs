import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Test code in any project may use the testing and local-stack libs; production code may not
// (the no-restricted-imports override below).
const TEST_SUPPORT = ['type:testing', 'type:stack'];

// OpenTelemetry belongs to the tracing lib (libs/platform/tracing): everything else makes spans through it.
const OTEL = '@opentelemetry/*';

const layerConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:infra', 'type:data-access', 'type:util', 'type:fake', ...TEST_SUPPORT], bannedExternalImports: [OTEL] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:infra', 'type:data-access', 'type:util', 'type:fake', 'type:stack', 'type:testing'] },
  { sourceTag: 'type:stack', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data-access', 'type:fake'] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'], bannedExternalImports: ['@nestjs/*', '@nats-io/*', 'typeorm', 'pg', 'openai', OTEL] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', ...TEST_SUPPORT], bannedExternalImports: [OTEL] },
  // A store may build on the read model's paging and value rules (archival memory does); Nx refuses cycles.
  { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:data-access', ...TEST_SUPPORT], bannedExternalImports: [OTEL] },
  // The contracts validate events against their JSON Schemas at decode: the validator is the one package they may use.
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util'], allowedExternalImports: ['ajv', 'ajv-formats'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:fake', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['*'] },
  // Examples show a subscriber outside the services: the published contract and the NATS client, nothing else.
  { sourceTag: 'type:example', onlyDependOnLibsWithTags: ['type:contracts'] },
];

const scopeConstraints = [
  'gateway', 'orchestrator', 'llm-worker', 'callback-dispatcher', 'projector', 'fake-model', 'inspector',
].map((scope) => ({ sourceTag: `scope:${scope}`, onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'] }));

// Each IO client belongs to one place: the model SDK to the worker's LLM client, NATS to the
// JetStream lib, the ORM to the read model (and app modules that wire it).
const bannedByScope = [
  { sourceTag: 'scope:gateway', bannedExternalImports: ['openai', '@nats-io/*'] },
  { sourceTag: 'scope:orchestrator', bannedExternalImports: ['openai', '@nats-io/*'] },
  { sourceTag: 'scope:projector', bannedExternalImports: ['openai', '@nats-io/*'] },
  { sourceTag: 'scope:callback-dispatcher', bannedExternalImports: ['openai'] },
  // The inspector runs in the browser: it reaches the server through its HTTP API only.
  { sourceTag: 'scope:inspector', bannedExternalImports: ['openai', '@nats-io/*', '@nestjs/*', 'typeorm', 'pg', 'express'] },
];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '.data/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  { plugins: { '@nx': nx } },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [...layerConstraints, ...scopeConstraints, ...bannedByScope],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Test helpers may reach into the testing lib; production code may not.
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'libs/testing/**', 'libs/local-stack/**', 'apps/e2e/**', 'tools/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@lrs/testing', '@lrs/local-stack'], message: 'The testing and local-stack libs are for tests and tools only.' }] },
      ],
    },
  },
];
