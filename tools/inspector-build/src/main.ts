import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/**
 * Bundles the run inspector (apps/inspector) into dist/apps/inspector for the gateway to serve at
 * /ui: one script and one stylesheet named by their content's hash (cacheable for good), and an
 * index.html that loads them. Everything is local: no CDN, no web fonts, so the page works offline.
 * Type checking is the build script's `tsc -p apps/inspector` step; esbuild only strips types.
 */
async function main(): Promise<void> {
  const root = process.cwd();
  const source = join(root, 'apps', 'inspector', 'src');
  const out = join(root, 'dist', 'apps', 'inspector');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });

  const result = await build({
    entryPoints: { app: join(source, 'main.tsx') },
    bundle: true,
    outdir: join(out, 'assets'),
    entryNames: '[name]-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(root, 'apps', 'inspector', 'tsconfig.json'),
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });

  const outputs = Object.keys(result.metafile.outputs).map((file) => join(root, file));
  const asset = (extension: string) => {
    const file = outputs.find((path) => path.endsWith(extension));
    if (!file) throw new Error(`esbuild produced no ${extension} file`);
    return `assets/${basename(file)}`;
  };
  const html = readFileSync(join(source, 'index.html'), 'utf8').replace('{{script}}', asset('.js')).replace('{{stylesheet}}', asset('.css'));
  writeFileSync(join(out, 'index.html'), html);
  console.log(`run inspector built into ${relative(root, out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
