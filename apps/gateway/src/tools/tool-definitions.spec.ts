import { BUNDLED_PIP_PACKAGES, givenSchema, requirementProblems } from './tool-definitions';
import { withApprovalRules } from '@lrs/domain-run';
import { secretsOf } from '../agents/agent-config';

describe('a json_schema given with a tool', () => {
  it('takes a function schema, or the OpenAI tool wrapper around one, with parameters defaulting to none', () => {
    expect(givenSchema({ name: 'f', description: 'd', parameters: { type: 'object', properties: { a: { type: 'string' } } } })).toEqual({
      name: 'f',
      description: 'd',
      parameters: { type: 'object', properties: { a: { type: 'string' } } },
    });
    expect(givenSchema({ type: 'function', function: { name: 'g' } })).toEqual({ name: 'g', description: '', parameters: { type: 'object', properties: {} } });
  });

  it('names what is wrong: a name a model API refuses, parameters that are not an object schema, a description that is not text, a schema too large', () => {
    expect(givenSchema({ name: 'has space' })).toContain('json_schema.name');
    expect(givenSchema({ name: '1abc' })).toContain('json_schema.name');
    expect(givenSchema({ name: 'x'.repeat(65) })).toContain('json_schema.name');
    expect(givenSchema({ name: 'f', parameters: { type: 'array' } })).toContain('json_schema.parameters');
    expect(givenSchema({ name: 'f', parameters: [] })).toContain('json_schema.parameters');
    expect(givenSchema({ name: 'f', description: 5 })).toContain('json_schema.description');
    expect(givenSchema({ name: 'f', parameters: { type: 'object', description: 'x'.repeat(100_001) } })).toContain('longer than');
  });
});

describe('requirements', () => {
  it('takes what the sandbox bundles, in any case, and names each other package', () => {
    expect(BUNDLED_PIP_PACKAGES.has('requests')).toBe(true);
    expect(requirementProblems('pip_requirements', [{ name: 'Requests' }], BUNDLED_PIP_PACKAGES)).toEqual([]);
    expect(requirementProblems('pip_requirements', [{ name: 'numpy' }, { name: 'requests' }], BUNDLED_PIP_PACKAGES)).toEqual([expect.stringContaining("'numpy' cannot be installed")]);
    expect(requirementProblems('npm_requirements', [{ name: 'lodash' }], new Set())).toEqual([expect.stringContaining("'lodash' cannot be installed")]);
    expect(requirementProblems('pip_requirements', null, BUNDLED_PIP_PACKAGES)).toEqual([]);
  });
});

describe("an agent's approval rules and secrets", () => {
  it('adds a requires_approval rule for each gated tool that has none, keeping the others', () => {
    const rules = [{ type: 'requires_approval', tool_name: 'a' }, { type: 'max_count_per_step', tool_name: 'b', max_count_limit: 1 }];
    expect(withApprovalRules(rules, ['a', 'b'])).toEqual([...rules, { type: 'requires_approval', tool_name: 'b' }]);
    expect(withApprovalRules([], [])).toEqual([]);
  });

  it("merges the deprecated tool_exec_environment_variables under secrets, which win", () => {
    expect(secretsOf({})).toBeUndefined();
    expect(secretsOf({ tool_exec_environment_variables: { A: '1', B: '2' }, secrets: { B: '3' } })).toEqual({ A: '1', B: '3' });
  });
});
