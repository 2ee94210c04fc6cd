/**
 * Typed access to environment variables, read once at boot. Every app declares what it needs
 * through these helpers so a bad value fails the process at start-up with a message naming the
 * variable, instead of surfacing later as a confusing runtime error.
 */
export class EnvError extends Error {}

type Source = Record<string, string | undefined>;

export class Env {
  constructor(private readonly source: Source = process.env) {}

  string(name: string, fallback?: string): string {
    const value = this.source[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new EnvError(`environment variable ${name} is required`);
  }

  optionalString(name: string): string | null {
    const value = this.source[name];
    return value === undefined || value === '' ? null : value;
  }

  /** A comma-separated list, entries trimmed, empty ones dropped; [] when unset. */
  list(name: string): string[] {
    return (this.source[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  }

  int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    const raw = this.source[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^-?\d+$/.test(raw)) throw new EnvError(`environment variable ${name} must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (bounds.min !== undefined && value < bounds.min) throw new EnvError(`${name} must be >= ${bounds.min}, got ${value}`);
    if (bounds.max !== undefined && value > bounds.max) throw new EnvError(`${name} must be <= ${bounds.max}, got ${value}`);
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.source[name];
    if (raw === undefined || raw === '') return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new EnvError(`environment variable ${name} must be true or false, got "${raw}"`);
  }
}

/** Settings every service shares. */
export interface CommonSettings {
  natsUrl: string;
  databaseUrl: string;
  /** DB_PREPARED_STATEMENTS: the run path's hot statements as prepared statements (false behind PgBouncer < 1.21 in transaction mode). */
  databasePreparedStatements: boolean;
  serviceName: string;
  logLevel: string;
}

export function readCommonSettings(serviceName: string, env = new Env()): CommonSettings {
  return {
    natsUrl: env.string('NATS_URL', 'nats://127.0.0.1:4222'),
    databaseUrl: env.string('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/letta'),
    databasePreparedStatements: env.bool('DB_PREPARED_STATEMENTS', true),
    serviceName: env.string('SERVICE_NAME', serviceName),
    logLevel: env.string('LOG_LEVEL', 'log'),
  };
}

/** Nest logger levels from LOG_LEVEL (error < warn < log < debug < verbose). */
export function nestLogLevels(level: string): ('error' | 'warn' | 'log' | 'debug' | 'verbose')[] {
  const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  const index = order.indexOf(level as (typeof order)[number]);
  return order.slice(0, index < 0 ? 3 : index + 1);
}
