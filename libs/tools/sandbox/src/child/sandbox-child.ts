/**
 * The sandbox child process: started by the pool with an empty environment and (where Node has it)
 * the permission model, it runs one call at a time and answers over IPC. Before any user code runs
 * it takes away what an escape from Pyodide or QuickJS could use to reach the host: network modules,
 * process.binding and friends, builtin-module lookups, signals to other processes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { BoundedText } from '../limits';
import { runJavaScript } from './js-runner';
import type { ChildConfig, ChildReply, ChildRequest, ChildRunResult } from './protocol';
import { startHttpBridge } from './net-bridge';
import { PYTHON_PRELUDE } from './python-prelude';

const MAX_HTTP_BODY_BYTES = 5 * 1024 * 1024;

type PyodideAPI = import('pyodide').PyodideAPI;
type QuickJSModule = import('quickjs-emscripten-core').QuickJSWASMModule;

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const send = process.send!.bind(process) as (message: ChildReply) => boolean;
const networkMessage = config.networkEnabled
  ? 'raw sockets are not available to tools (TOOL_NETWORK=true allows HTTP through fetch, requests and urllib only)'
  : 'network access for tools is off on this server (TOOL_NETWORK=false)';
/** HTTP for tools through the worker thread, started before the lock-down (which then refuses new workers). */
const httpCall = config.networkEnabled ? startHttpBridge({ allowPrivateNetworks: config.allowPrivateNetworks, maxBodyBytes: MAX_HTTP_BODY_BYTES }) : null;
/** How often the watchdog thread looks for the parent (the most a runaway outlives a killed worker). */
const PARENT_CHECK_MS = 500;

function refuse(what: string): () => never {
  return () => {
    const error = new Error(`${what}: ${networkMessage}`);
    error.name = 'NetworkDisabledError';
    throw error;
  };
}

/**
 * Ends this process when the pool that started it is gone. A service that is SIGKILLed cannot stop
 * its children, and a call stuck in a loop keeps this thread's event loop (and its 'disconnect'
 * handler) from ever running again: a thread of its own still sees the parent go, and kills the
 * process, so no runaway tool outlives its worker.
 */
function watchParent(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const source = `const { workerData } = require('node:worker_threads');
    setInterval(() => { if (process.ppid !== workerData.parentPid) process.kill(process.pid, 'SIGKILL'); }, ${PARENT_CHECK_MS});`;
  new Worker(source, { eval: true, workerData: { parentPid: process.ppid } }).unref();
}

/** Everything user code could use to reach the host if it got out of its interpreter. */
function lockDown(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const net = require('node:net') as typeof import('node:net');
  const tls = require('node:tls') as typeof import('node:tls');
  const dgram = require('node:dgram') as typeof import('node:dgram');
  const dns = require('node:dns') as typeof import('node:dns');
  const http = require('node:http') as typeof import('node:http');
  const https = require('node:https') as typeof import('node:https');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const mutable = (target: object) => target as Record<string, unknown>;
  const denied = (name: string) => () => {
    throw new Error(`${name} is not available in the tool sandbox`);
  };
  // The permission model of Node 20/22 does not cover the network, so the modules refuse here.
  net.Socket.prototype.connect = refuse('net.Socket.connect') as never;
  for (const name of ['connect', 'createConnection', 'createServer']) mutable(net)[name] = refuse(`net.${name}`);
  for (const name of ['connect', 'createServer']) mutable(tls)[name] = refuse(`tls.${name}`);
  mutable(dgram).createSocket = refuse('dgram.createSocket');
  for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'reverse']) mutable(dns)[name] = refuse(`dns.${name}`);
  mutable(dns.promises).lookup = refuse('dns.promises.lookup');
  for (const mod of [http, https]) for (const name of ['request', 'get', 'createServer']) mutable(mod)[name] = refuse(`http.${name}`);
  for (const name of ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest']) delete (globalThis as Record<string, unknown>)[name];
  // Node 20's permission model does not reach into worker threads, so no further worker may start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mutable(require('node:worker_threads') as object).Worker = denied('worker_threads.Worker');

  const proc = process as unknown as Record<string, unknown>;
  // Pyodide's NODEFS reads fs constants through process.binding at load; nothing else may.
  const constants = { fs: fs.constants, os: os.constants };
  proc.binding = (name: string) => {
    if (name === 'constants') return constants;
    throw new Error('process.binding is not available in the tool sandbox');
  };
  for (const name of ['_linkedBinding', 'dlopen', 'kill', '_kill', 'chdir', 'setuid', 'setgid', 'seteuid', 'setegid', 'setgroups', 'initgroups', 'getBuiltinModule']) {
    if (name in proc) proc[name] = denied(`process.${name}`);
  }
  Object.defineProperty(process, 'mainModule', { value: undefined, configurable: false, writable: false });
  for (const key of Object.keys(process.env)) delete process.env[key];
}

// Before the lock-down, which refuses new worker threads.
watchParent();
lockDown();

let pyodide: PyodideAPI | null = null;
let quickjs: QuickJSModule | null = null;
let capture: { stdout: BoundedText; stderr: BoundedText } | null = null;

function writer(stream: 'stdout' | 'stderr') {
  const decoder = new TextDecoder();
  return {
    write(buffer: Uint8Array): number {
      capture?.[stream].push(decoder.decode(buffer, { stream: true }));
      return buffer.length;
    },
  };
}

async function loadPython(): Promise<boolean> {
  if (pyodide) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadPyodide } = require(`${config.pyodideDir}pyodide.js`) as typeof import('pyodide');
  // jsglobals is a prototype-less empty object: `import js` gets nothing, and no constructor chain
  // leads from it to Function (and from there to process).
  const loaded = await loadPyodide({
    indexURL: config.pyodideDir,
    jsglobals: Object.create(null) as object,
    env: { HOME: '/home/pyodide' },
    fullStdLib: false,
    stdout: () => undefined,
    stderr: () => undefined,
  });
  loaded.setStdout(writer('stdout'));
  loaded.setStderr(writer('stderr'));
  loaded.runPython(PYTHON_PRELUDE.replace('__LRS_NETWORK_ENABLED__', config.networkEnabled ? 'True' : 'False'));
  if (httpCall) {
    const install = loaded.globals.get('_lrs_install_http') as ((fn: (json: string) => string) => void) & { destroy?: () => void };
    install(httpCall);
    install.destroy?.();
  }
  pyodide = loaded;
  return true;
}

async function loadQuickJS(): Promise<boolean> {
  if (quickjs) return false;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const core = require(config.quickjsCore) as typeof import('quickjs-emscripten-core');
  const variant = require(config.quickjsVariant) as { default?: unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  quickjs = await core.newQuickJSWASMModuleFromVariant((variant.default ?? variant) as never);
  return true;
}

async function runPython(request: Extract<ChildRequest, { type: 'run' }>): Promise<ChildRunResult> {
  const cold = await loadPython();
  const py = pyodide!;
  capture = { stdout: new BoundedText(config.maxOutputChars), stderr: new BoundedText(config.maxOutputChars) };
  try {
    const entry = py.globals.get(request.mode === 'code' ? '_lrs_run_code' : '_lrs_run') as (payload: string) => string;
    const payload = JSON.stringify({
      sourceCode: request.sourceCode,
      functionName: request.functionName,
      args: request.args,
      env: request.env,
      agent: request.agent,
      returnCharLimit: request.returnCharLimit,
    });
    const raw = entry(payload);
    (entry as unknown as { destroy?: () => void }).destroy?.();
    const parsed = JSON.parse(raw) as { status: 'success' | 'error'; value: string; errorType: string | null; traceback: string | null; memoryUpdates: ChildRunResult['memoryUpdates'] };
    if (parsed.traceback) capture.stderr.push(parsed.traceback);
    return { ...parsed, stdout: capture.stdout.toList(), stderr: capture.stderr.toList(), cold };
  } finally {
    capture = null;
  }
}

async function handle(request: ChildRequest): Promise<ChildReply> {
  switch (request.type) {
    case 'warm':
      return { type: 'warmed', id: request.id, cold: request.language === 'python' ? await loadPython() : await loadQuickJS() };
    case 'describe': {
      await loadPython();
      const describe = pyodide!.globals.get('_lrs_describe') as (source: string) => string;
      const parsed = JSON.parse(describe(request.sourceCode)) as unknown;
      (describe as unknown as { destroy?: () => void }).destroy?.();
      return { type: 'described', id: request.id, parsed };
    }
    case 'run': {
      if (request.language === 'python') return { type: 'result', id: request.id, result: await runPython(request) };
      const cold = await loadQuickJS();
      const result = runJavaScript(
        quickjs!,
        {
          mode: request.mode,
          sourceCode: request.sourceCode,
          functionName: request.functionName,
          args: request.args,
          env: request.env,
          returnCharLimit: request.returnCharLimit,
          timeoutMs: request.timeoutMs,
          maxOutputChars: config.maxOutputChars,
          memoryLimitBytes: config.jsMemoryLimitBytes,
          networkMessage,
          httpCall,
        },
        cold,
      );
      return { type: 'result', id: request.id, result };
    }
  }
}

// One request at a time: the parent never sends the next before this one's answer.
let chain: Promise<unknown> = Promise.resolve();
process.on('message', (message: ChildRequest) => {
  chain = chain.then(async () => {
    try {
      send(await handle(message));
    } catch (error) {
      send({ type: 'failed', id: message.id, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
