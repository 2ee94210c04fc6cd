import { Injectable, Module } from '@nestjs/common';

/** One dependency a process needs to do its work (NATS with JetStream, Postgres). */
export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or takes too long) when it does not. */
  check(): Promise<void>;
}

/**
 * The readiness checks of the modules a process is built of: each module that owns a dependency
 * (the JetStream module NATS, the read-model module Postgres) adds its check as it is built, so a
 * service has exactly the checks of the modules it imports and the probes need not guess.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: ReadinessCheck[] = [];

  add(check: ReadinessCheck): ReadinessCheck {
    this.checks.push(check);
    return check;
  }

  all(): readonly ReadinessCheck[] {
    return this.checks;
  }
}

/** Imported by every module that adds a check: Nest builds it once, so they share one registry. */
@Module({ providers: [ReadinessChecks], exports: [ReadinessChecks] })
export class ReadinessModule {}

/** The providers that add the checks (the module owning the dependency builds it). */
export const NATS_READINESS = 'readiness:nats';
export const POSTGRES_READINESS = 'readiness:postgres';

export interface Readiness {
  ready: boolean;
  /** `ok`, or what went wrong, per check. */
  checks: Record<string, string>;
}

/**
 * `/readyz`: every check, in parallel, each within `timeoutMs`. `/livez` runs none: a process that
 * answers is alive, and restarting it would not bring a dependency back.
 */
export async function readiness(checks: readonly ReadinessCheck[], timeoutMs = 2_000): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([check(), timeout]);
        return [name, 'ok'] as const;
      } catch (error) {
        return [name, error instanceof Error ? error.message : String(error)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, result]) => result === 'ok'), checks: Object.fromEntries(results) };
}
