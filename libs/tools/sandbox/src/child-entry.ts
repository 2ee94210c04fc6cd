/**
 * Where the child's script is and what it may read. From `dist/` (production, `npm run build`) the
 * child is the compiled `child/sandbox-child.js` beside this file. From TypeScript sources (ts-jest,
 * where this file is `.ts`) the child is bundled once per process with esbuild into a temporary
 * file named by the sources' hash, so tests need no build first.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ChildLaunch {
  entry: string;
  pyodideDir: string;
  quickjsCore: string;
  quickjsVariant: string;
  /** Paths the child may read under the permission model. */
  readable: string[];
  /** Node flags for the child. */
  execArgv: string[];
}

function packageRoot(entry: string, name: string): string {
  let dir = path.dirname(entry);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package root of ${name} from ${entry}`);
    dir = parent;
  }
}

let bundled: string | null = null;

function childScript(): { entry: string; readable: string } {
  const compiled = path.join(__dirname, 'child', 'sandbox-child.js');
  if (__filename.endsWith('.js') && fs.existsSync(compiled)) return { entry: compiled, readable: __dirname };
  if (!bundled) {
    // Named by the hash of its sources, so test runs share one bundle and a changed child gets a new one
    // (jest may kill its workers, so a per-process directory would never be removed).
    const sources = [path.join(__dirname, 'limits.ts'), ...fs.readdirSync(path.join(__dirname, 'child')).filter((name) => name.endsWith('.ts')).sort().map((name) => path.join(__dirname, 'child', name))];
    const hash = createHash('sha256');
    for (const source of sources) hash.update(source).update(fs.readFileSync(source));
    const dir = path.join(os.tmpdir(), `lrs-tool-sandbox-${hash.digest('hex').slice(0, 16)}`);
    const target = path.join(dir, 'sandbox-child.js');
    if (!fs.existsSync(target)) {
      fs.mkdirSync(dir, { recursive: true });
      const temporary = `${target}.${process.pid}.tmp`;
      // esbuild is a dependency of the sandbox anyway (it strips TypeScript tools' types).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const esbuild = require('esbuild') as typeof import('esbuild');
      esbuild.buildSync({
        entryPoints: [path.join(__dirname, 'child', 'sandbox-child.ts')],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        outfile: temporary,
        logLevel: 'silent',
      });
      fs.renameSync(temporary, target); // atomic: parallel test workers never see half a file
    }
    bundled = target;
  }
  return { entry: bundled, readable: path.dirname(bundled) };
}

/** `--permission` from Node 22.13 on, `--experimental-permission` before; null where neither exists. */
export function permissionFlag(flags: ReadonlySet<string> = process.allowedNodeEnvironmentFlags): string | null {
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return null;
}

export function resolveChildLaunch(): ChildLaunch {
  const { entry, readable } = childScript();
  const pyodideMain = require.resolve('pyodide');
  const pyodideDir = packageRoot(pyodideMain, 'pyodide') + path.sep;
  const quickjsCore = require.resolve('quickjs-emscripten-core');
  const quickjsVariant = require.resolve('@jitl/quickjs-wasmfile-release-sync');
  const ffiTypes = packageRoot(require.resolve('@jitl/quickjs-ffi-types', { paths: [quickjsCore] }), '@jitl/quickjs-ffi-types');
  const readablePaths = [
    readable,
    pyodideDir,
    packageRoot(quickjsCore, 'quickjs-emscripten-core'),
    packageRoot(quickjsVariant, '@jitl/quickjs-wasmfile-release-sync'),
    ffiTypes,
  ];
  const flag = permissionFlag();
  const execArgv = [
    // Tool code gets no eval/Function in the child's own JavaScript realm: an escape from Pyodide
    // cannot turn a string into host code. (QuickJS's eval runs inside its wasm and is unaffected.)
    '--disallow-code-generation-from-strings',
    '--no-warnings',
    // Worker threads: the parent watchdog, and the HTTP bridge of TOOL_NETWORK=true, both started
    // before the child's lock-down, which then refuses any other.
    ...(flag ? [flag, ...readablePaths.map((p) => `--allow-fs-read=${p}`), '--allow-worker'] : []),
  ];
  return { entry, pyodideDir, quickjsCore, quickjsVariant, readable: readablePaths, execArgv };
}
