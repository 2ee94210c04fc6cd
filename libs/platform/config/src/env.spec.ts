import { Env, EnvError, nestLogLevels, readCommonSettings } from './env';

const env = (source: Record<string, string | undefined>) => new Env(source);

describe('Env.string', () => {
  it('returns a set value', () => {
    expect(env({ NAME: 'value' }).string('NAME')).toBe('value');
  });

  it('prefers a set value over the fallback', () => {
    expect(env({ NAME: 'value' }).string('NAME', 'fallback')).toBe('value');
  });

  it.each([{}, { NAME: '' }])('uses the fallback when unset or empty (%j)', (source) => {
    expect(env(source).string('NAME', 'fallback')).toBe('fallback');
  });

  it('allows an empty fallback', () => {
    expect(env({}).string('NAME', '')).toBe('');
  });

  it.each([{}, { NAME: '' }])('requires a value without a fallback (%j)', (source) => {
    expect(() => env(source).string('NAME')).toThrow(new EnvError('environment variable NAME is required'));
    expect(() => env(source).string('NAME')).toThrow(EnvError);
  });
});

describe('Env.optionalString', () => {
  it.each([
    [{ NAME: 'x' }, 'x'],
    [{ NAME: '' }, null],
    [{}, null],
  ])('%j -> %p', (source, expected) => {
    expect(env(source).optionalString('NAME')).toBe(expected);
  });
});

describe('Env.int', () => {
  it.each([
    ['42', 42],
    ['-7', -7],
    ['0', 0],
  ])('parses %j', (raw, value) => {
    expect(env({ N: raw }).int('N', 1)).toBe(value);
  });

  it.each([{}, { N: '' }])('uses the fallback when unset or empty (%j)', (source) => {
    expect(env(source).int('N', 5)).toBe(5);
  });

  it('does not bound-check the fallback', () => {
    expect(env({}).int('N', 0, { min: 1 })).toBe(0);
  });

  it.each(['abc', '1.5', '12px', 'NaN', 'Infinity'])('rejects %j as not an integer', (raw) => {
    expect(() => env({ N: raw }).int('N', 1)).toThrow(new EnvError(`environment variable N must be an integer, got "${raw}"`));
  });

  it('enforces the lower bound', () => {
    expect(() => env({ PORT: '0' }).int('PORT', 1, { min: 1 })).toThrow(new EnvError('PORT must be >= 1, got 0'));
    expect(env({ PORT: '1' }).int('PORT', 9, { min: 1 })).toBe(1);
  });

  it('enforces the upper bound', () => {
    expect(() => env({ PORT: '65536' }).int('PORT', 1, { max: 65535 })).toThrow(new EnvError('PORT must be <= 65535, got 65536'));
    expect(env({ PORT: '65535' }).int('PORT', 1, { max: 65535 })).toBe(65535);
  });

  it('throws EnvError instances', () => {
    expect(() => env({ N: 'x' }).int('N', 1)).toThrow(EnvError);
    expect(() => env({ N: '5' }).int('N', 1, { max: 4 })).toThrow(EnvError);
  });
});

describe('Env.bool', () => {
  it.each(['1', 'true', 'TRUE', 'yes', 'Yes', 'on', 'ON'])('reads %j as true', (raw) => {
    expect(env({ B: raw }).bool('B', false)).toBe(true);
  });

  it.each(['0', 'false', 'False', 'no', 'NO', 'off', 'Off'])('reads %j as false', (raw) => {
    expect(env({ B: raw }).bool('B', true)).toBe(false);
  });

  it.each([{}, { B: '' }])('uses the fallback when unset or empty (%j)', (source) => {
    expect(env(source).bool('B', true)).toBe(true);
    expect(env(source).bool('B', false)).toBe(false);
  });

  it.each(['maybe', '2', 'truthy', ' true', 'y'])('rejects %j', (raw) => {
    expect(() => env({ B: raw }).bool('B', false)).toThrow(
      new EnvError(`environment variable B must be true or false, got "${raw}"`),
    );
  });
});

describe('readCommonSettings', () => {
  it('uses defaults and the service name', () => {
    expect(readCommonSettings('gateway', env({}))).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/letta',
      databasePreparedStatements: true,
      serviceName: 'gateway',
      logLevel: 'log',
    });
  });

  it('reads overrides', () => {
    const settings = readCommonSettings(
      'gateway',
      env({ NATS_URL: 'nats://nats:4222', DATABASE_URL: 'postgres://db/x', DB_PREPARED_STATEMENTS: 'false', SERVICE_NAME: 'gw-2', LOG_LEVEL: 'debug' }),
    );
    expect(settings).toEqual({ natsUrl: 'nats://nats:4222', databaseUrl: 'postgres://db/x', databasePreparedStatements: false, serviceName: 'gw-2', logLevel: 'debug' });
  });
});

describe('nestLogLevels', () => {
  it.each([
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['log', ['error', 'warn', 'log']],
    ['debug', ['error', 'warn', 'log', 'debug']],
    ['verbose', ['error', 'warn', 'log', 'debug', 'verbose']],
    ['nonsense', ['error', 'warn', 'log']],
  ])('%s -> %j', (level, levels) => {
    expect(nestLogLevels(level)).toEqual(levels);
  });
});
