/**
 * What the code actually reads from the environment, per deployable program.
 *
 * A program is identified by the command a container runs (`node dist/<path>.js`), mapped back
 * to its TypeScript entry point (`<path>.ts`). Starting there, relative imports and the
 * `@lrs/*` path aliases of tsconfig.base.json are followed (type-only imports are not: they
 * load nothing at run time), and every `.int('X'`, `.string('X'`, `.bool('X'`,
 * `.optionalString('X'` call (the `Env` helpers) and every `process.env.X` / `process.env['X']`
 * in the reached files is collected.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type EnvAccessor = 'int' | 'string' | 'bool' | 'optionalString' | 'process.env';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** `node dist/apps/gateway/src/main.js` → `apps/gateway/src/main.ts` (relative to the repo). */
export function entrySourceForCommand(command: unknown): string | null {
  if (!Array.isArray(command) || command.length !== 2 || command[0] !== 'node') return null;
  const match = /^dist\/((?:apps|tools)\/[a-z0-9-]+\/src\/main)\.js$/.exec(String(command[1]));
  return match ? `${match[1]}.ts` : null;
}

function readAliases(): Map<string, string> {
  const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.base.json'), 'utf8')) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  return new Map(Object.entries(tsconfig.compilerOptions.paths).map(([alias, [target]]) => [alias, resolve(REPO_ROOT, target)]));
}

function resolveTsFile(base: string): string | null {
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile() && candidate.endsWith('.ts')) return candidate;
  }
  return null;
}

const IMPORT_PATTERNS = [
  // import x from '...'; import { a, type B } from '...'; export * from '...'; export { a } from '...'
  /(?:^|[;\n])\s*(?:import|export)\s+(?!type\s)[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
  // import '...'  (side effects)
  /(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g,
  // require('...') and import('...')
  /\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Every TypeScript file of this repository that `entry` loads at run time (absolute paths). */
export function importClosure(entry: string): string[] {
  const aliases = readAliases();
  const seen = new Set<string>();
  const pending = [resolve(REPO_ROOT, entry)];
  while (pending.length) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const pattern of IMPORT_PATTERNS) {
      for (const match of source.matchAll(pattern)) {
        const specifier = match[1];
        const target = specifier.startsWith('.')
          ? resolveTsFile(resolve(dirname(file), specifier))
          : aliases.has(specifier)
            ? resolveTsFile(aliases.get(specifier) as string)
            : null; // a package from node_modules
        if (target && !seen.has(target)) pending.push(target);
      }
    }
  }
  return [...seen].sort();
}

const ENV_PATTERNS: [RegExp, (match: RegExpMatchArray) => [string, EnvAccessor]][] = [
  [/\.(int|string|bool|optionalString)\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g, (m) => [m[2], m[1] as EnvAccessor]],
  [/process\.env\.([A-Z][A-Z0-9_]*)/g, (m) => [m[1], 'process.env']],
  [/process\.env\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g, (m) => [m[1], 'process.env']],
];

/** Variable name → how it is read, over the given files. */
export function envReads(files: string[]): Map<string, Set<EnvAccessor>> {
  const reads = new Map<string, Set<EnvAccessor>>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const [pattern, extract] of ENV_PATTERNS) {
      for (const match of source.matchAll(pattern)) {
        const [name, accessor] = extract(match);
        if (!reads.has(name)) reads.set(name, new Set());
        (reads.get(name) as Set<EnvAccessor>).add(accessor);
      }
    }
  }
  return reads;
}

/** Env reads of the program a container command starts; null if the command is not one of ours. */
export function envReadsOfCommand(command: unknown): { entry: string; reads: Map<string, Set<EnvAccessor>>; files: string[] } | null {
  const entry = entrySourceForCommand(command);
  if (!entry || !existsSync(join(REPO_ROOT, entry))) return null;
  const files = importClosure(entry);
  return { entry, reads: envReads(files), files: files.map((file) => relative(REPO_ROOT, file)) };
}

/**
 * Whether `value` would be accepted by the accessor(s) the code reads it with: integers for
 * `int`, the Env class's true/false words for `bool`. Strings accept anything.
 */
export function valueFitsAccessors(value: string, accessors: Set<EnvAccessor>): boolean {
  if (value === '') return true; // the Env helpers treat empty as unset
  if (accessors.has('int') && !Number.isInteger(Number(value))) return false;
  if (accessors.has('bool') && !/^(1|true|yes|on|0|false|no|off)$/i.test(value)) return false;
  return true;
}
