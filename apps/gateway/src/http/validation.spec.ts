import type { ValidationError } from '@nestjs/common';
import { describeValidationErrors } from './validation';

const error = (property: string, constraints?: Record<string, string>, children?: ValidationError[]): ValidationError => ({
  property,
  constraints,
  children,
});

describe('describeValidationErrors', () => {
  it('returns nothing for no errors', () => {
    expect(describeValidationErrors([])).toEqual([]);
  });

  it('prefixes each constraint message with its property', () => {
    expect(
      describeValidationErrors([
        error('max_steps', { isInt: 'max_steps must be an integer number', min: 'max_steps must not be less than 1' }),
        error('name', { isString: 'name must be a string' }),
      ]),
    ).toEqual([
      'max_steps: max_steps must be an integer number',
      'max_steps: max_steps must not be less than 1',
      'name: name must be a string',
    ]);
  });

  it('joins nested properties into a dotted path, depth first', () => {
    const errors = [
      error('messages', undefined, [
        error('0', undefined, [error('role', { isIn: 'role must be one of: user, system, assistant' })]),
        error('2', undefined, [
          error('content', { isMessageContent: 'content must not be an empty list' }),
          error('otid', { isString: 'otid must be a string' }),
        ]),
      ]),
      error('input', { isMessageContent: 'input part 0 must be an object' }),
    ];
    expect(describeValidationErrors(errors)).toEqual([
      'messages.0.role: role must be one of: user, system, assistant',
      'messages.2.content: content must not be an empty list',
      'messages.2.otid: otid must be a string',
      'input: input part 0 must be an object',
    ]);
  });

  it("lists a parent's own constraints before its children's", () => {
    const errors = [error('client_tools', { isArray: 'client_tools must be an array' }, [error('0', { x: 'bad tool' })])];
    expect(describeValidationErrors(errors)).toEqual(['client_tools: client_tools must be an array', 'client_tools.0: bad tool']);
  });

  it('starts paths from the given parent', () => {
    expect(describeValidationErrors([error('label', { isString: 'label must be a string' })], 'memory_blocks.1')).toEqual([
      'memory_blocks.1.label: label must be a string',
    ]);
  });

  it('skips errors with neither constraints nor children', () => {
    expect(describeValidationErrors([error('quiet'), error('empty', {}, [])])).toEqual([]);
  });
});
