import { Env } from '@lrs/config';
import { permissionFlag } from './child-entry';
import { BoundedText, errorReturn, truncateReturnValue } from './limits';
import { readSandboxSettings } from './settings';

describe('BoundedText', () => {
  test('keeps up to the limit, counts the rest, and says how much was dropped', () => {
    const text = new BoundedText(10);
    text.push('hello ');
    text.push('world, and more');
    text.push('x'.repeat(1_000_000));
    expect(text.length).toBe(10);
    expect(text.toList()).toEqual([`hello worl\n[output truncated: ${11 + 1_000_000} more characters were dropped]`]);
    expect(new BoundedText(10).toList()).toEqual([]);
  });
});

test("the return value is cut Letta's way", () => {
  expect(truncateReturnValue('abc', 5)).toBe('abc');
  expect(truncateReturnValue('abcdefgh', 5)).toBe('abcde... [NOTE: function output was truncated since it exceeded the character limit (8 > 5)]');
  expect(errorReturn('ValueError', 'bad')).toBe('ValueError: bad');
  expect(errorReturn('StopIteration', '')).toBe('StopIteration');
});

test('settings from the environment, with defaults', () => {
  expect(readSandboxSettings(new Env({}))).toEqual({
    processes: 2,
    timeoutMs: 30_000,
    memoryLimitBytes: 512 * 1024 * 1024,
    maxOutputChars: 50_000,
    network: { enabled: false, allowPrivateNetworks: false },
  });
  const set = readSandboxSettings(new Env({ TOOL_SANDBOX_PROCESSES: '4', TOOL_TIMEOUT_MS: '1000', TOOL_MEMORY_LIMIT_MB: '256', TOOL_NETWORK: 'true' }));
  expect(set).toMatchObject({ processes: 4, timeoutMs: 1000, memoryLimitBytes: 256 * 1024 * 1024, network: { enabled: true } });
  expect(() => readSandboxSettings(new Env({ TOOL_SANDBOX_PROCESSES: '0' }))).toThrow('TOOL_SANDBOX_PROCESSES');
});

test('the permission flag by Node version', () => {
  expect(permissionFlag(new Set(['--permission', '--experimental-permission']))).toBe('--permission');
  expect(permissionFlag(new Set(['--experimental-permission']))).toBe('--experimental-permission');
  expect(permissionFlag(new Set())).toBeNull();
});
