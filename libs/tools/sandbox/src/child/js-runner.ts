/**
 * JavaScript (and TypeScript, types already stripped) in QuickJS: a fresh runtime and context
 * per call, with a heap limit and an interrupt at the deadline. QuickJS has no host bindings
 * but the ones given here (console, process.env, a refusing fetch), so tool code has no fs,
 * no network and no Node.
 */
import { BoundedText, truncateReturnValue } from '../limits';
import type { ChildRunResult } from './protocol';

// Types only: the modules themselves are required from absolute paths the parent hands over.
type QuickJSModule = import('quickjs-emscripten-core').QuickJSWASMModule;
type QuickJSContext = import('quickjs-emscripten-core').QuickJSContext;
type QuickJSHandle = import('quickjs-emscripten-core').QuickJSHandle;

const HELPERS = String.raw`
globalThis.__lrs_fmt = (v) => {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return String(v.stack || v);
  try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
};
globalThis.console = {
  log: (...a) => __lrs_out(1, a.map(__lrs_fmt).join(' ') + '\n'),
  info: (...a) => __lrs_out(1, a.map(__lrs_fmt).join(' ') + '\n'),
  debug: (...a) => __lrs_out(1, a.map(__lrs_fmt).join(' ') + '\n'),
  warn: (...a) => __lrs_out(2, a.map(__lrs_fmt).join(' ') + '\n'),
  error: (...a) => __lrs_out(2, a.map(__lrs_fmt).join(' ') + '\n'),
};
globalThis.__lrs_params = (fn) => {
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf('(');
  const arrow = src.indexOf('=>');
  if (open < 0 || (arrow >= 0 && arrow < open)) {
    const m = /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
    return m ? [m[1]] : [];
  }
  const parts = []; let depth = 0; let buf = '';
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if ('([{'.includes(c)) { depth++; if (depth === 1) continue; }
    else if (')]}'.includes(c)) { depth--; if (depth === 0) break; }
    if (depth === 1 && c === ',') { parts.push(buf); buf = ''; continue; }
    buf += c;
  }
  parts.push(buf);
  const names = parts.map((p) => p.trim()).filter((p) => p.length > 0);
  if (names.length === 1 && names[0].startsWith('{')) return null;
  return names.map((p) => p.replace(/^\.\.\./, '').split('=')[0].trim());
};
globalThis.__lrs_text = (v) => {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'undefined';
  try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
};
`;

/** fetch over the child's HTTP bridge (TOOL_NETWORK=true): a small Response (status, ok, headers.get, text, json). */
const FETCH = String.raw`
globalThis.fetch = async (input, init = {}) => {
  const headers = {};
  const given = init.headers || {};
  if (typeof given.forEach === 'function' && !Array.isArray(given)) given.forEach((v, k) => { headers[k] = v; });
  else if (Array.isArray(given)) for (const [k, v] of given) headers[k] = v;
  else Object.assign(headers, given);
  const reply = JSON.parse(__lrs_http(JSON.stringify({ method: (init.method || 'GET').toUpperCase(), url: String(input), headers,
    bodyText: init.body == null ? null : String(init.body), timeoutMs: 30000, as: 'text', followRedirects: init.redirect !== 'manual' })));
  if (reply.error) throw new TypeError('fetch failed: ' + reply.error);
  const lower = {};
  for (const k of Object.keys(reply.headers)) lower[k.toLowerCase()] = reply.headers[k];
  return { status: reply.status, statusText: reply.reason, ok: reply.status >= 200 && reply.status < 300, url: reply.url,
    headers: { get: (name) => lower[String(name).toLowerCase()] ?? null, has: (name) => String(name).toLowerCase() in lower },
    text: async () => reply.text, json: async () => JSON.parse(reply.text) };
};
`;

export interface JsCall {
  mode: 'tool' | 'code';
  sourceCode: string;
  functionName: string;
  args: Record<string, unknown>;
  env: Record<string, string>;
  returnCharLimit: number;
  timeoutMs: number;
  maxOutputChars: number;
  memoryLimitBytes: number;
  networkMessage: string;
  /** Synchronous HTTP (TOOL_NETWORK=true), or null. */
  httpCall: ((requestJson: string) => string) | null;
}

export function runJavaScript(quickjs: QuickJSModule, call: JsCall, cold: boolean): ChildRunResult {
  const stdout = new BoundedText(call.maxOutputChars);
  const stderr = new BoundedText(call.maxOutputChars);
  const deadline = Date.now() + call.timeoutMs;
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(call.memoryLimitBytes);
  runtime.setMaxStackSize(1024 * 1024);
  runtime.setInterruptHandler(() => Date.now() > deadline);
  const ctx = runtime.newContext();
  const done = (result: Omit<ChildRunResult, 'stdout' | 'stderr' | 'cold' | 'memoryUpdates'>): ChildRunResult => ({
    ...result,
    memoryUpdates: [],
    stdout: stdout.toList(),
    stderr: stderr.toList(),
    cold,
  });
  try {
    const out = ctx.newFunction('__lrs_out', (stream: QuickJSHandle, text: QuickJSHandle) => {
      (ctx.getNumber(stream) === 2 ? stderr : stdout).push(ctx.getString(text));
    });
    ctx.setProp(ctx.global, '__lrs_out', out);
    out.dispose();
    const httpCall = call.httpCall;
    if (httpCall) {
      const http = ctx.newFunction('__lrs_http', (request: QuickJSHandle) => ctx.newString(httpCall(ctx.getString(request))));
      ctx.setProp(ctx.global, '__lrs_http', http);
      http.dispose();
    }
    const setup = [
      HELPERS,
      `globalThis.process = { env: ${JSON.stringify(call.env)} };`,
      call.httpCall ? FETCH : `globalThis.fetch = async () => { const e = new Error(${JSON.stringify(call.networkMessage)}); e.name = 'NetworkDisabledError'; throw e; };`,
      'globalThis.module = { exports: {} }; globalThis.exports = module.exports;',
    ].join('\n');
    ctx.unwrapResult(ctx.evalCode(setup, 'setup.js')).dispose();

    const evaluated = ctx.evalCode(call.sourceCode, call.mode === 'tool' ? 'tool.js' : 'code.js');
    if (evaluated.error) return done(errorOf(ctx, evaluated.error, call.timeoutMs));
    if (call.mode === 'code') return done(settle(ctx, runtime, evaluated.value, call, deadline));
    evaluated.value.dispose();

    const invoke = `(() => {
      const name = ${JSON.stringify(call.functionName)};
      const args = ${JSON.stringify(call.args)};
      const ex = module.exports;
      let fn = ex && typeof ex[name] === 'function' ? ex[name] : (typeof ex === 'function' ? ex : globalThis[name]);
      if (ex && typeof ex.default === 'function' && typeof fn !== 'function') fn = ex.default;
      if (typeof fn !== 'function') throw new ReferenceError('function ' + name + ' is not defined in the tool\\'s source code');
      const params = __lrs_params(fn);
      return params === null ? fn(args) : fn(...params.map((p) => args[p]));
    })()`;
    const called = ctx.evalCode(invoke, 'invoke.js');
    if (called.error) return done(errorOf(ctx, called.error, call.timeoutMs));
    return done(settle(ctx, runtime, called.value, call, deadline));
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
}

type Settled = Omit<ChildRunResult, 'stdout' | 'stderr' | 'cold' | 'memoryUpdates'>;

/** Waits out a promise by running QuickJS's job queue (tools have no timers or I/O to wait on). */
function settle(
  ctx: QuickJSContext,
  runtime: import('quickjs-emscripten-core').QuickJSRuntime,
  handle: QuickJSHandle,
  call: JsCall,
  deadline: number,
): Settled {
  let value = handle;
  for (;;) {
    const state = ctx.getPromiseState(value);
    if (state.type === 'fulfilled') {
      if (state.notAPromise) break;
      value.dispose();
      value = state.value;
      break;
    }
    if (state.type === 'rejected') {
      value.dispose();
      return errorOf(ctx, state.error, call.timeoutMs);
    }
    const jobs = runtime.executePendingJobs();
    if (jobs.error) {
      value.dispose();
      return errorOf(ctx, jobs.error, call.timeoutMs);
    }
    if (jobs.value === 0 && ctx.getPromiseState(value).type === 'pending') {
      value.dispose();
      return { status: 'error', value: 'Error: the tool returned a promise that never settled (timers and I/O are not available)', errorType: 'Error', traceback: null };
    }
    if (Date.now() > deadline) {
      value.dispose();
      return timeout(call.timeoutMs);
    }
  }
  ctx.setProp(ctx.global, '__lrs_value', value);
  value.dispose();
  const text = ctx.evalCode(call.mode === 'code' ? '__lrs_value === undefined ? "" : __lrs_text(__lrs_value)' : '__lrs_text(__lrs_value)');
  if (text.error) return errorOf(ctx, text.error, call.timeoutMs);
  const full = ctx.getString(text.value);
  text.value.dispose();
  return { status: 'success', value: truncateReturnValue(full, call.returnCharLimit), errorType: null, traceback: null };
}

function timeout(timeoutMs: number): Settled {
  return { status: 'error', value: `TimeoutError: the tool ran longer than its limit of ${timeoutMs} ms and was stopped`, errorType: 'TimeoutError', traceback: null };
}

function errorOf(ctx: QuickJSContext, handle: QuickJSHandle, timeoutMs: number): Settled {
  const dumped = ctx.dump(handle) as unknown;
  handle.dispose();
  const error = (typeof dumped === 'object' && dumped !== null ? dumped : { name: 'Error', message: String(dumped) }) as {
    name?: string;
    message?: string;
    stack?: string;
  };
  const name = error.name || 'Error';
  const message = error.message ?? '';
  if (name === 'InternalError' && message === 'interrupted') return timeout(timeoutMs);
  if (name === 'InternalError' && message === 'out of memory') {
    return { status: 'error', value: 'MemoryError: the tool ran out of its JavaScript heap', errorType: 'MemoryError', traceback: null };
  }
  return {
    status: 'error',
    value: message ? `${name}: ${message}` : name,
    errorType: name,
    traceback: error.stack ? `${name}: ${message}\n${error.stack}` : null,
  };
}
