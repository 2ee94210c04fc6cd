import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ToolSandbox, type SandboxSettings, type ToolInvocation } from '@lrs/tool-sandbox';

/**
 * Tool sandbox figures: the cold start of a child and Pyodide (the first Python call), warm Python
 * and JavaScript/TypeScript calls (p50, p99, IPC included), and each child's resident memory.
 * Calls run one after another, as one agent's tool calls do. Usage:
 *   npm run bench:tools -- --calls 500 --colds 3
 */
const ADD = 'def add(a: int, b: int) -> int:\n    """Adds.\n\n    Args:\n        a: first\n        b: second\n    """\n    return a + b\n';

const settings: SandboxSettings = {
  processes: 1,
  timeoutMs: 60_000,
  memoryLimitBytes: 1024 * 1024 * 1024,
  maxOutputChars: 50_000,
  network: { enabled: false, allowPrivateNetworks: false },
};

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function timed(sandbox: ToolSandbox, invocation: ToolInvocation, calls: number): Promise<{ p50: number; p99: number }> {
  const timings: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const result = await sandbox.run({ ...invocation, args: { a: i, b: 1 } });
    timings.push(performance.now() - started);
    if (result.returnValue !== String(i + 1)) throw new Error(`unexpected result ${result.returnValue}`);
  }
  timings.sort((a, b) => a - b);
  const at = (q: number) => timings[Math.min(timings.length - 1, Math.floor(q * timings.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { calls: { type: 'string', default: '500' }, colds: { type: 'string', default: '3' } } });
  const calls = Number(values.calls);
  const colds = Number(values.colds);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const coldTimes: number[] = [];
  let pythonRss = NaN;
  for (let i = 0; i < colds; i++) {
    const sandbox = new ToolSandbox(settings);
    const started = performance.now();
    const first = await sandbox.run({ language: 'python', sourceCode: ADD, functionName: 'add', args: { a: 1, b: 2 }, env: {}, affinity: 'bench' });
    coldTimes.push(performance.now() - started);
    if (!first.cold || first.returnValue !== '3') throw new Error('the first call was not a cold success');
    pythonRss = rssMiB(sandbox.pids()[0]);
    await sandbox.close();
  }
  coldTimes.sort((a, b) => a - b);
  console.log(`python cold start (fork + Pyodide + first call): median ${coldTimes[Math.floor(coldTimes.length / 2)].toFixed(0)} ms of ${colds}; child RSS after it ${pythonRss.toFixed(0)} MiB`);

  const sandbox = new ToolSandbox(settings);
  try {
    const python = { language: 'python' as const, sourceCode: ADD, functionName: 'add', args: {}, env: { KEY: 'v' }, affinity: 'bench' };
    await sandbox.run({ ...python, args: { a: 0, b: 0 } });
    const warm = await timed(sandbox, python, calls);
    console.log(`python warm call add(a, b): p50 ${warm.p50.toFixed(2)} ms, p99 ${warm.p99.toFixed(2)} ms over ${calls} calls; child RSS ${rssMiB(sandbox.pids()[0]).toFixed(0)} MiB`);
  } finally {
    await sandbox.close();
  }

  const jsSandbox = new ToolSandbox(settings);
  try {
    const js = { language: 'javascript' as const, sourceCode: 'function add(a, b) { return a + b; }', functionName: 'add', args: {}, env: {}, affinity: 'bench' };
    const started = performance.now();
    await jsSandbox.run({ ...js, args: { a: 0, b: 0 } });
    const jsCold = performance.now() - started;
    const warmJs = await timed(jsSandbox, js, calls);
    console.log(`javascript: cold ${jsCold.toFixed(0)} ms (fork + QuickJS); warm p50 ${warmJs.p50.toFixed(2)} ms, p99 ${warmJs.p99.toFixed(2)} ms; child RSS ${rssMiB(jsSandbox.pids()[0]).toFixed(0)} MiB`);
    const ts = { ...js, language: 'typescript' as const, sourceCode: 'export function add(a: number, b: number): number { return a + b; }' };
    const warmTs = await timed(jsSandbox, ts, calls);
    console.log(`typescript (esbuild strips types each call): warm p50 ${warmTs.p50.toFixed(2)} ms, p99 ${warmTs.p99.toFixed(2)} ms`);
  } finally {
    await jsSandbox.close();
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
