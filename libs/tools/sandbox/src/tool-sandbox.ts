/**
 * The pool of sandbox children and the public API. Calls never run on the caller's event loop:
 * each goes to a child process (child/sandbox-child.ts) that this class starts, watches (wall
 * clock, resident memory, abort) and kills when a limit is crossed.
 *
 * Isolation: a child that ran tool Python for one affinity (an agent) serves only that affinity
 * until it is recycled, because a warm interpreter keeps whatever a call left in it. JavaScript
 * gets a fresh QuickJS runtime per call and leaves nothing, so it may use a child that never ran
 * Python, or one of its own affinity. Schemas are read with `ast` (no user code runs), so any
 * untainted child may parse them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { resolveChildLaunch, type ChildLaunch } from './child-entry';
import type { ChildReply, ChildRequest, ChildRunResult } from './child/protocol';

type RunRequest = Extract<ChildRequest, { type: 'run' }>;
import { errorReturn } from './limits';
import { schemaOfSource, type ParsedSource } from './python-schema';
import type { DescribeResult, SandboxLanguage, SandboxSettings, ToolExecution, ToolInvocation } from './types';

/** How long a child may take to start and load an interpreter before it counts as broken. */
const BOOT_TIMEOUT_MS = 120_000;
const DESCRIBE_TIMEOUT_MS = 15_000;
const MEMORY_POLL_MS = 50;
const JS_KILL_GRACE_MS = 250;
/** A child whose memory stays above this share of the limit after a call is replaced. */
const RECYCLE_SHARE = 0.75;

interface Child {
  proc: ChildProcess;
  /** The affinity whose Python ran here; null while no tool Python has run. */
  affinity: string | null;
  busy: boolean;
  lastUsed: number;
  ready: Promise<void>;
  python: boolean;
  javascript: boolean;
  dead: boolean;
  /** The answer the child owes, if any. */
  pending: { id: number; settle: (outcome: Outcome) => void } | null;
}

type Need = { kind: 'python'; affinity: string } | { kind: 'javascript'; affinity: string } | { kind: 'describe' };
type Outcome = { reply: ChildReply } | { killed: 'timeout' | 'memory' | 'abort' | 'exit' | 'boot'; detail: string };

class SandboxFailure extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

export class ToolSandbox {
  private readonly children: Child[] = [];
  private readonly waiting: { need: Need; grant: (child: Child) => void; fail: (error: Error) => void }[] = [];
  private launch: ChildLaunch | null = null;
  private nextId = 1;
  private closed = false;

  constructor(private readonly settings: SandboxSettings) {}

  async run(invocation: ToolInvocation): Promise<ToolExecution> {
    const call = {
      functionName: invocation.functionName,
      args: invocation.args,
      env: { ...invocation.env },
      agent: invocation.agent ?? null,
      returnCharLimit: Math.min(invocation.returnCharLimit ?? this.settings.maxOutputChars, this.settings.maxOutputChars),
    };
    return this.runSource('tool', invocation.language, invocation.sourceCode, call, invocation);
  }

  async runCode(language: SandboxLanguage, code: string, options: { affinity: string; timeoutMs?: number; signal?: AbortSignal }): Promise<ToolExecution> {
    return this.runSource('code', language, code, { functionName: '', args: {}, env: {}, agent: null, returnCharLimit: this.settings.maxOutputChars }, options);
  }

  /** A tool's function or a snippet: JavaScript and TypeScript compiled here first, then run in a child of its kind. */
  private async runSource(
    mode: 'tool' | 'code',
    language: SandboxLanguage,
    code: string,
    call: Pick<RunRequest, 'functionName' | 'args' | 'env' | 'agent' | 'returnCharLimit'>,
    options: { affinity: string; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<ToolExecution> {
    const started = Date.now();
    const timeoutMs = Math.min(options.timeoutMs ?? this.settings.timeoutMs, this.settings.timeoutMs);
    const kind = language === 'python' ? 'python' : 'javascript';
    let source = code;
    if (kind === 'javascript') {
      const compiled = await compileJavaScript(language, code, mode);
      if (!compiled.ok) return failure('SyntaxError', compiled.message, started, false);
      source = compiled.code;
    }
    const request: RunRequest = { type: 'run', id: 0, mode, language: kind, sourceCode: source, ...call, timeoutMs };
    return this.execute({ kind, affinity: options.affinity }, request, timeoutMs, options.signal, started);
  }

  async describePython(sourceCode: string, functionName?: string): Promise<DescribeResult> {
    const child = await this.acquire({ kind: 'describe' });
    try {
      await this.boot(child, 'python');
      const outcome = await this.ask(child, { type: 'describe', id: 0, sourceCode }, DESCRIBE_TIMEOUT_MS);
      if ('killed' in outcome) return { ok: false, problem: `the source code could not be parsed: ${outcome.detail}` };
      if (outcome.reply.type === 'failed') return { ok: false, problem: `the source code could not be parsed: ${outcome.reply.message}` };
      if (outcome.reply.type !== 'described') throw new Error(`unexpected reply ${outcome.reply.type}`);
      return schemaOfSource(outcome.reply.parsed as ParsedSource, functionName);
    } finally {
      this.release(child);
    }
  }

  async warmUp(): Promise<void> {
    const fresh: Child[] = [];
    while (this.children.length < this.settings.processes) {
      const child = this.spawn(); // spawned busy
      this.children.push(child);
      fresh.push(child);
    }
    await Promise.all(
      fresh.map(async (child) => {
        try {
          await this.boot(child, 'python');
        } finally {
          this.release(child);
        }
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.fail(new SandboxFailure('Overloaded', 'the tool sandbox is shutting down'));
    await Promise.all(this.children.splice(0).map((child) => this.kill(child)));
  }

  /** Child pids (tests and the benchmark read their memory). */
  pids(): number[] {
    return this.children.filter((child) => !child.dead).map((child) => child.proc.pid!);
  }

  private async execute(need: Need, request: RunRequest, timeoutMs: number, signal: AbortSignal | undefined, started: number): Promise<ToolExecution> {
    if (signal?.aborted) return failure('Cancelled', 'the call was cancelled before it started', started, false);
    let child: Child;
    try {
      child = await this.acquire(need, signal);
    } catch (error) {
      if (error instanceof SandboxFailure) return failure(error.errorType, error.message, started, false);
      throw error;
    }
    let cold = false;
    try {
      cold = await this.boot(child, request.language);
      if (signal?.aborted) return failure('Cancelled', 'the call was cancelled', started, cold);
      // QuickJS stops itself at the deadline (its interrupt handler) and the child lives on; the
      // kill a little later is for what the interrupt cannot stop. Python has no such hook here.
      const killAfterMs = request.language === 'javascript' ? timeoutMs + JS_KILL_GRACE_MS : timeoutMs;
      const outcome = await this.ask(child, request, killAfterMs, signal, true);
      if ('killed' in outcome) {
        switch (outcome.killed) {
          case 'timeout':
            return failure('TimeoutError', `the tool ran longer than its limit of ${timeoutMs} ms and was stopped`, started, cold);
          case 'memory':
            return failure('MemoryError', outcome.detail, started, cold);
          case 'abort':
            return failure('Cancelled', 'the call was cancelled and stopped', started, cold);
          default:
            return failure('SandboxError', outcome.detail, started, cold);
        }
      }
      const reply = outcome.reply;
      if (reply.type === 'failed') return failure('SandboxError', reply.message, started, cold);
      if (reply.type !== 'result') return failure('SandboxError', `unexpected reply ${reply.type}`, started, cold);
      return toExecution(reply.result, started, cold);
    } catch (error) {
      if (error instanceof SandboxFailure) return failure(error.errorType, error.message, started, cold);
      throw error;
    } finally {
      this.release(child);
    }
  }

  /** Loads the interpreter a request needs, outside the call's own time limit. */
  private async boot(child: Child, language: 'python' | 'javascript'): Promise<boolean> {
    await child.ready;
    if (language === 'python' ? child.python : child.javascript) return false;
    const outcome = await this.ask(child, { type: 'warm', id: 0, language }, BOOT_TIMEOUT_MS);
    if ('killed' in outcome) throw new SandboxFailure('SandboxError', `the sandbox could not start ${language}: ${outcome.detail}`);
    if (outcome.reply.type === 'failed') {
      this.kill(child).catch(() => undefined);
      throw new SandboxFailure('SandboxError', `the sandbox could not start ${language}: ${outcome.reply.message}`);
    }
    if (language === 'python') child.python = true;
    else child.javascript = true;
    return true;
  }

  private ask(child: Child, request: ChildRequest, timeoutMs: number, signal?: AbortSignal, watchMemory = false): Promise<Outcome> {
    if (child.dead) return Promise.resolve({ killed: 'exit', detail: 'the sandbox process had exited' });
    const id = this.nextId++;
    return new Promise<Outcome>((resolve) => {
      let finished = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (outcome: Outcome) => {
        if (finished) return;
        finished = true;
        for (const timer of timers) clearTimeout(timer); // clears intervals too (one timer id space)
        signal?.removeEventListener('abort', onAbort);
        child.pending = null;
        resolve(outcome);
      };
      const stop = (killed: 'timeout' | 'memory' | 'abort', detail: string) => {
        finish({ killed, detail });
        this.kill(child).catch(() => undefined);
      };
      const onAbort = () => stop('abort', 'cancelled');
      child.pending = { id, settle: finish };
      timers.push(setTimeout(() => stop('timeout', `no answer within ${timeoutMs} ms`), timeoutMs));
      if (watchMemory) {
        timers.push(
          setInterval(() => {
            const rss = residentBytes(child.proc.pid);
            if (rss !== null && rss > this.settings.memoryLimitBytes) {
              stop('memory', `the tool used more than its memory limit of ${Math.round(this.settings.memoryLimitBytes / 1024 / 1024)} MB and was stopped`);
            }
          }, MEMORY_POLL_MS),
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        child.proc.send({ ...request, id });
      } catch (error) {
        finish({ killed: 'exit', detail: `the sandbox process could not be reached: ${String(error)}` });
      }
    });
  }

  private spawn(): Child {
    this.launch ??= resolveChildLaunch();
    const launch = this.launch;
    const proc = fork(
      launch.entry,
      [
        JSON.stringify({
          pyodideDir: launch.pyodideDir,
          quickjsCore: launch.quickjsCore,
          quickjsVariant: launch.quickjsVariant,
          networkEnabled: this.settings.network.enabled,
          allowPrivateNetworks: this.settings.network.allowPrivateNetworks,
          maxOutputChars: this.settings.maxOutputChars,
          jsMemoryLimitBytes: Math.min(256 * 1024 * 1024, Math.floor(this.settings.memoryLimitBytes / 2)),
        }),
      ],
      // An empty environment: the service's variables (database URL, keys) never reach a child.
      { env: {}, execArgv: launch.execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' },
    );
    let stderrTail = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    let markReady!: () => void;
    let markFailed!: (error: Error) => void;
    const child: Child = {
      proc,
      affinity: null,
      busy: true,
      lastUsed: Date.now(),
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        markFailed = reject;
      }),
      python: false,
      javascript: false,
      dead: false,
      pending: null,
    };
    child.ready.catch(() => undefined);
    proc.on('message', (message: ChildReply) => {
      if (message.type === 'ready') markReady();
      else if (child.pending && 'id' in message && message.id === child.pending.id) child.pending.settle({ reply: message });
    });
    proc.on('exit', (code, signal) => {
      child.dead = true;
      const detail = `the sandbox process exited (${signal ?? `code ${code}`})${stderrTail ? `: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      markFailed(new SandboxFailure('SandboxError', detail));
      child.pending?.settle({ killed: 'exit', detail });
      this.forget(child);
    });
    proc.on('error', () => undefined);
    return child;
  }

  private forget(child: Child): void {
    const index = this.children.indexOf(child);
    if (index >= 0) this.children.splice(index, 1);
    this.serveWaiting();
  }

  private kill(child: Child): Promise<void> {
    if (child.dead || child.proc.exitCode !== null || child.proc.signalCode !== null) {
      child.dead = true;
      this.forget(child);
      return Promise.resolve();
    }
    child.dead = true;
    this.forget(child);
    return new Promise((resolve) => {
      child.proc.once('exit', () => resolve());
      child.proc.kill('SIGKILL');
    });
  }

  private acquire(need: Need, signal?: AbortSignal): Promise<Child> {
    if (this.closed) return Promise.reject(new SandboxFailure('Overloaded', 'the tool sandbox is closed'));
    const child = this.pick(need);
    if (child) return Promise.resolve(child);
    const maxWaiting = this.settings.maxWaiting ?? this.settings.processes * 32;
    if (this.waiting.length >= maxWaiting) {
      return Promise.reject(new SandboxFailure('Overloaded', `the tool sandbox is busy: ${this.waiting.length} calls are already waiting for a process`));
    }
    return new Promise<Child>((resolve, reject) => {
      const waiter = {
        need,
        grant: (granted: Child) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
        fail: (error: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new SandboxFailure('Cancelled', 'the call was cancelled while it waited for a process'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** An idle child fit for the need (marked busy), a new one, a recycled one, or null: all busy. */
  private pick(need: Need): Child | null {
    const idle = this.children.filter((child) => !child.busy && !child.dead);
    let found: Child | undefined;
    if (need.kind === 'python') {
      found =
        idle.find((child) => child.affinity === need.affinity) ??
        idle.find((child) => child.affinity === null && child.python) ??
        idle.find((child) => child.affinity === null);
    } else if (need.kind === 'javascript') {
      found = idle.find((child) => child.affinity === need.affinity && child.javascript) ?? idle.find((child) => child.affinity === need.affinity) ?? idle.find((child) => child.affinity === null);
    } else {
      found = idle.find((child) => child.affinity === null && child.python) ?? idle.find((child) => child.affinity === null);
    }
    if (!found) {
      if (this.children.length >= this.settings.processes) {
        if (idle.length === 0) return null;
        // Recycle the least recently used idle child: its interpreter may hold another tenant's state.
        const lru = idle.reduce((a, b) => (a.lastUsed <= b.lastUsed ? a : b));
        this.kill(lru).catch(() => undefined);
      }
      found = this.spawn();
      this.children.push(found);
    }
    found.busy = true;
    if (need.kind === 'python') found.affinity = need.affinity;
    return found;
  }

  private release(child: Child): void {
    child.busy = false;
    child.lastUsed = Date.now();
    if (!child.dead) {
      const rss = residentBytes(child.proc.pid);
      if (rss !== null && rss > this.settings.memoryLimitBytes * RECYCLE_SHARE) this.kill(child).catch(() => undefined);
    }
    this.serveWaiting();
  }

  private serveWaiting(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const child = this.pick(this.waiting[i].need);
      if (!child) {
        i++;
        continue;
      }
      const [waiter] = this.waiting.splice(i, 1);
      waiter.grant(child);
    }
  }
}

/** Resident memory of a process from /proc (Linux); null where it cannot be read. */
export function residentBytes(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function failure(errorType: string, message: string, started: number, cold: boolean): ToolExecution {
  return {
    status: 'error',
    returnValue: errorReturn(errorType, message),
    errorType,
    stdout: [],
    stderr: [],
    memoryUpdates: [],
    durationMs: Date.now() - started,
    cold,
  };
}

function toExecution(result: ChildRunResult, started: number, cold: boolean): ToolExecution {
  return {
    status: result.status,
    returnValue: result.value,
    errorType: result.status === 'error' ? (result.errorType ?? 'Error') : null,
    stdout: result.stdout,
    stderr: result.stderr,
    memoryUpdates: result.memoryUpdates,
    durationMs: Date.now() - started,
    cold: cold || result.cold,
  };
}

/** Types stripped (TypeScript) and modules turned into CommonJS (tools may `export function`). */
async function compileJavaScript(language: SandboxLanguage, source: string, mode: 'tool' | 'code'): Promise<{ ok: true; code: string } | { ok: false; message: string }> {
  if (language === 'javascript' && mode === 'code') return { ok: true, code: source };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  try {
    const out = await esbuild.transform(source, {
      loader: language === 'typescript' ? 'ts' : 'js',
      format: mode === 'tool' ? 'cjs' : undefined,
      target: 'es2022',
      logLevel: 'silent',
    });
    return { ok: true, code: out.code };
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors;
    const first = errors?.[0];
    return { ok: false, message: first ? `${first.text}${first.location ? ` (line ${first.location.line})` : ''}` : String(error) };
  }
}
