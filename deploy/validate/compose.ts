/** Reading docker-compose.yml the way Compose does, for the checks in deploy-manifests.spec.ts. */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

export interface ComposeHealthcheck {
  test?: string | string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  disable?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: ComposeHealthcheck;
  restart?: string;
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  stop_grace_period?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Parses with YAML merge keys (`<<: *anchor`), as Compose does; parse problems are returned. */
export function readCompose(file: string): { compose: ComposeFile; errors: string[] } {
  const document = parseDocument(readFileSync(file, 'utf8'), { merge: true });
  const errors = [...document.errors, ...document.warnings].map((problem) => problem.message);
  return { compose: document.toJS({ maxAliasCount: 100 }) as ComposeFile, errors };
}

/** The service's environment as name → raw (uninterpolated) string. */
export function environmentOf(service: ComposeService): Map<string, string> {
  const env = new Map<string, string>();
  if (Array.isArray(service.environment)) {
    for (const entry of service.environment) {
      const eq = entry.indexOf('=');
      env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
    }
  } else {
    for (const [name, value] of Object.entries(service.environment ?? {})) env.set(name, value === null ? '' : String(value));
  }
  return env;
}

/**
 * Compose interpolation with an empty host environment: `${X:-d}` and `${X-d}` give `d`,
 * `${X}` and `$X` give '', `$$` gives `$`. Unsupported forms (`${X:?err}`) are returned as errors.
 */
export function interpolateWithDefaults(raw: string): { value: string; error?: string } {
  let error: string | undefined;
  const value = raw.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?[?+])[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, _name, dash, fallback, other) => {
    if (match === '$$') return '$';
    if (other) {
      error = `unsupported interpolation ${match}`;
      return '';
    }
    return dash ? String(fallback) : '';
  });
  return { value, error };
}

export function dependsOn(service: ComposeService): Map<string, string> {
  const deps = new Map<string, string>();
  if (Array.isArray(service.depends_on)) for (const name of service.depends_on) deps.set(name, 'service_started');
  else for (const [name, spec] of Object.entries(service.depends_on ?? {})) deps.set(name, spec?.condition ?? 'service_started');
  return deps;
}

export function commandOf(service: ComposeService): string[] | null {
  if (Array.isArray(service.command)) return service.command.map(String);
  if (typeof service.command === 'string') return service.command.trim().split(/\s+/);
  return null;
}
