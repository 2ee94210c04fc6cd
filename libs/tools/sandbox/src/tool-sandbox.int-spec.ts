import { fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveChildLaunch } from './child-entry';
import { ToolSandbox } from './tool-sandbox';
import type { SandboxSettings, ToolInvocation } from './types';

// One pool for the whole file (starting Pyodide costs seconds); every test is deterministic:
// limits are crossed by far, never by a hair.
const settings: SandboxSettings = {
  processes: 2,
  timeoutMs: 8_000,
  memoryLimitBytes: 450 * 1024 * 1024,
  maxOutputChars: 2_000,
  network: { enabled: false, allowPrivateNetworks: false },
};
const HOST_SECRET = 'LRS_SANDBOX_TEST_HOST_SECRET';
let sandbox: ToolSandbox;

beforeAll(async () => {
  // Set before the pool starts: a child must not inherit it.
  process.env[HOST_SECRET] = 'the-database-password';
  sandbox = new ToolSandbox(settings);
  await sandbox.warmUp();
}, 60_000);

afterAll(async () => {
  await sandbox.close();
  delete process.env[HOST_SECRET];
});

function py(sourceCode: string, extra: Partial<ToolInvocation> = {}): ToolInvocation {
  const name = /def (\w+)\(/g;
  let last = '';
  for (let m = name.exec(sourceCode); m; m = name.exec(sourceCode)) last = m[1];
  return { language: 'python', sourceCode, functionName: last, args: {}, env: {}, affinity: 'agent-A', ...extra };
}

describe('python tools', () => {
  test('a call returns its value as text, its stdout, and the second call of an agent is warm', async () => {
    const tool = py('def add(a: int, b: int) -> int:\n    print("adding", a, b)\n    return a + b\n', { args: { a: 2, b: 3 } });
    const first = await sandbox.run(tool);
    expect(first).toMatchObject({ status: 'success', returnValue: '5', errorType: null, stdout: ['adding 2 3\n'], stderr: [] });
    const second = await sandbox.run(tool);
    expect(second).toMatchObject({ status: 'success', returnValue: '5', cold: false });
    const dict = await sandbox.run(py('def f():\n    return {"a": [1, None]}\n'));
    expect(dict.returnValue).toBe('{"a": [1, null]}');
    const none = await sandbox.run(py('def f():\n    pass\n'));
    expect(none.returnValue).toBe('None');
  });

  test('an exception is an error return "Type: message" with the traceback on stderr', async () => {
    const result = await sandbox.run(py('def boom(x: int):\n    return x / 0\n', { args: { x: 1 } }));
    expect(result).toMatchObject({ status: 'error', errorType: 'ZeroDivisionError', returnValue: 'ZeroDivisionError: division by zero' });
    expect(result.stderr.join('')).toContain('Traceback');
    const memory = await sandbox.run(py('def f():\n    raise MemoryError("too big")\n'));
    expect(memory).toMatchObject({ status: 'error', errorType: 'MemoryError', returnValue: 'MemoryError: too big' });
    const syntax = await sandbox.run(py('def f(:\n    pass\n', { functionName: 'f' }));
    expect(syntax).toMatchObject({ status: 'error', errorType: 'SyntaxError' });
  });

  test('the return value is cut with a note, and output is bounded while it is produced', async () => {
    const long = await sandbox.run(py('def f():\n    return "y" * 5000\n', { returnCharLimit: 100 }));
    expect(long.returnValue).toBe(`${'y'.repeat(100)}... [NOTE: function output was truncated since it exceeded the character limit (5000 > 100)]`);
    const noisy = await sandbox.run(py('def f():\n    for _ in range(50):\n        print("x" * 100000)\n    return "done"\n'));
    expect(noisy.returnValue).toBe('done');
    expect(noisy.stdout).toHaveLength(1);
    expect(noisy.stdout[0].length).toBeLessThan(settings.maxOutputChars + 200);
    expect(noisy.stdout[0]).toContain('[output truncated');
  });

  test('a runaway print loop is stopped at its time limit and the pool serves the next call', async () => {
    const runaway = await sandbox.run(py('def f():\n    while True:\n        print("x" * 10**6)\n', { affinity: 'agent-runaway', timeoutMs: 1_500 }));
    expect(runaway).toMatchObject({ status: 'error', errorType: 'TimeoutError' });
    expect(runaway.returnValue).toContain('1500 ms');
    const next = await sandbox.run(py('def f():\n    return "fine"\n'));
    expect(next).toMatchObject({ status: 'success', returnValue: 'fine' });
  });

  test('a call that allocates past the memory limit is stopped with MemoryError', async () => {
    const hog = await sandbox.run(py('def f():\n    keep = []\n    while True:\n        keep.append(bytearray(20 * 1024 * 1024))\n', { affinity: 'agent-runaway' }));
    expect(hog).toMatchObject({ status: 'error', errorType: 'MemoryError' });
    expect(hog.returnValue).toContain('450 MB');
    expect(await sandbox.run(py('def f():\n    return 1\n'))).toMatchObject({ status: 'success', returnValue: '1' });
  });

  test("a tool sees what Letta's sandbox script has in scope (typing names, os) and a letta_client that says why it cannot work here", async () => {
    const source = [
      'def scoped(items: List[str], note: Optional[str] = None) -> str:',
      '    """Scope."""',
      '    from letta_client import Letta',
      '    try:',
      '        Letta(token="x")',
      '    except RuntimeError as error:',
      '        return "%d|%s|%s" % (len(items), os.environ.get("K"), error)',
    ].join('\n');
    const result = await sandbox.run(py(source, { args: { items: ['a', 'b'] }, env: { K: 'v' } }));
    expect(result.status).toBe('success');
    expect(result.returnValue).toMatch(/^2\|v\|the Letta client is not available inside tools on this server/);
  });

  test('os.environ is the invocation env exactly (no host variables), plus LETTA_AGENT_ID', async () => {
    const result = await sandbox.run(
      py('import os\ndef f():\n    return sorted(os.environ.items())\n', {
        env: { API_KEY: 'k-1' },
        agent: { id: 'agent-A', name: 'a', blocks: [] },
      }),
    );
    expect(JSON.parse(result.returnValue)).toEqual([['API_KEY', 'k-1'], ['LETTA_AGENT_ID', 'agent-A']]);
    expect(result.returnValue).not.toContain(HOST_SECRET);
  });

  test('host files are out of reach', async () => {
    const result = await sandbox.run(py('def f():\n    return open("/etc/passwd").read()\n'));
    expect(result).toMatchObject({ status: 'error', errorType: 'FileNotFoundError' });
  });

  test('escapes to JavaScript through js, pyodide_js, the finder table or _pyodide_core find nothing', async () => {
    const probe = `
import sys, gc
def probe():
    found = []
    attempts = [
        "import js; found.append(('js', str(js.constructor.constructor('return process')())))",
        "import pyodide_js; found.append(('pyodide_js', str(pyodide_js)))",
        "import pyodide.ffi; found.append(('pyodide.ffi', 1))",
        "import _pyodide_core; found.append(('_pyodide_core', 1))",
        "sys.meta_path.clear(); import js; found.append(('cleared meta_path', str(js)))",
    ]
    for code in attempts:
        saved = list(sys.meta_path)
        try:
            exec(code, {'found': found, 'sys': sys})
        except BaseException:
            pass
        finally:
            sys.meta_path[:] = saved
    for obj in gc.get_objects():
        kind = type(obj).__name__
        if kind == 'JsFinder':
            found.extend(('finder', name) for name in obj.jsproxies)
        if 'JsProxy' in kind or kind.startswith('Js'):
            try:
                process = obj.constructor.constructor('return process')()
                found.append(('gc ' + kind, str(process.pid)))
            except BaseException:
                pass
    return found
`;
    const result = await sandbox.run(py(probe));
    expect(result).toMatchObject({ status: 'success', returnValue: '[]' });
  });

  test('the network is off: socket, urllib, http.client and requests fail naming TOOL_NETWORK', async () => {
    for (const call of [
      'import socket\n    socket.create_connection(("127.0.0.1", 80))',
      'import socket\n    socket.socket()',
      'import urllib.request\n    urllib.request.urlopen("http://127.0.0.1/")',
      'import http.client\n    http.client.HTTPConnection("127.0.0.1").request("GET", "/")',
      'import requests\n    requests.post("http://127.0.0.1/", json={})',
    ]) {
      const result = await sandbox.run(py(`def f():\n    ${call}\n`));
      expect(result.status).toBe('error');
      expect(result.errorType).toBe('NetworkDisabledError');
      expect(result.returnValue).toContain('TOOL_NETWORK');
    }
    // requests imports fine (tools import it at module level); its exceptions are catchable as Letta tools expect.
    const caught = await sandbox.run(py('import requests\ndef f():\n    try:\n        requests.get("http://x")\n    except requests.exceptions.ConnectionError as e:\n        return "caught"\n'));
    expect(caught.returnValue).toBe('caught');
  });

  test('agent_state reads blocks and its updates come back; read-only and over-limit values are refused', async () => {
    const agent = {
      id: 'agent-A',
      name: 'Ada',
      blocks: [
        { label: 'human', value: 'Name: Sam', limit: 100, readOnly: false, description: null },
        { label: 'policy', value: 'fixed', limit: 100, readOnly: true, description: 'rules' },
      ],
    };
    const tool = `
def remember(fact: str, agent_state: "AgentState") -> str:
    """Remembers.

    Args:
        fact: what to remember
    """
    human = agent_state.memory.get_block("human")
    agent_state.memory.update_block_value(label="human", value=human.value + "\\n" + fact)
    problems = []
    for label, value in (("policy", "changed"), ("human", "z" * 101)):
        try:
            agent_state.memory.update_block_value(label=label, value=value)
        except ValueError as e:
            problems.append(str(e))
    return "|".join([agent_state.id, agent_state.name, ",".join(agent_state.memory.list_block_labels())] + problems)
`;
    const result = await sandbox.run(py(tool, { agent, args: { fact: 'likes tea' } }));
    expect(result.status).toBe('success');
    const [id, name, labels, readOnly, overLimit] = result.returnValue.split('|');
    expect([id, name, labels]).toEqual(['agent-A', 'Ada', 'human,policy']);
    expect(readOnly).toContain('read-only');
    expect(overLimit).toContain('100 character limit');
    expect(result.memoryUpdates).toEqual([{ label: 'human', value: 'Name: Sam\nlikes tea' }]);
    const client = await sandbox.run(py('def f():\n    return client.agents.list()\n'));
    expect(client.returnValue).toContain('the Letta client is not available inside tools');
  });

  test("state one agent's call leaves in a warm interpreter is invisible to another agent", async () => {
    const leave = py('import os, builtins, sys\nLEAK = 1\ndef f():\n    global LEAK\n    os.environ["LEAKED"] = "1"\n    builtins.leaked = "1"\n    sys.modules["leaked_mod"] = sys\n    return "left"\n');
    expect((await sandbox.run(leave)).returnValue).toBe('left');
    const look = 'import os, builtins, sys\ndef f():\n    return [os.environ.get("LEAKED"), getattr(builtins, "leaked", None), "leaked_mod" in sys.modules, "LEAK" in globals()]\n';
    const other = await sandbox.run(py(look, { affinity: 'agent-B' }));
    expect(other.returnValue).toBe('[null, null, false, false]');
    // The same agent's next call is warm; its os.environ is reset to the call's env, its globals are fresh.
    const same = await sandbox.run(py(look));
    expect(same.cold).toBe(false);
    expect(same.returnValue).toBe('[null, "1", true, false]');
  });

  test('describePython builds Letta\'s schema with Python\'s ast, and reports problems', async () => {
    const described = await sandbox.describePython(
      'from typing import List, Optional\n\ndef search(query: str, tags: List[str], limit: Optional[int] = None) -> str:\n    """Searches notes.\n\n    Args:\n        query (str): Words to look for.\n        tags: Tags the notes\n            must carry.\n        limit: Most results.\n\n    Returns:\n        str: The notes.\n    """\n    return query\n',
    );
    expect(described).toEqual({
      ok: true,
      schema: {
        name: 'search',
        description: 'Searches notes.',
        parameters: {
          type: 'object',
          properties: {
            query: { type: 'string', description: 'Words to look for.' },
            tags: { type: 'array', items: { type: 'string' }, description: 'Tags the notes\nmust carry.' },
            limit: { type: 'integer', description: 'Most results.' },
          },
          required: ['query', 'tags'],
        },
      },
    });
    expect(await sandbox.describePython('def f(:\n  pass\n')).toEqual({ ok: false, problem: expect.stringContaining('line 1') });
    // Never executed: a top-level side effect would fail the parse if it ran.
    expect((await sandbox.describePython('raise SystemExit(1)\ndef g():\n    """G."""\n')).ok).toBe(true);
  });

  test('run_code: python returns the last expression and its output', async () => {
    const result = await sandbox.runCode('python', 'x = 20\nprint("hello")\nx + 22', { affinity: 'agent-A' });
    expect(result).toMatchObject({ status: 'success', returnValue: '42', stdout: ['hello\n'] });
  });
});

describe('javascript and typescript tools', () => {
  test('a TypeScript tool runs with its types stripped and sees only its env', async () => {
    const result = await sandbox.run({
      language: 'typescript',
      sourceCode: 'interface In { a: number }\nexport function add(a: number, b: number): number {\n  console.log("env", Object.keys(process.env).join(","));\n  return a + b;\n}\n',
      functionName: 'add',
      args: { b: 2, a: 40 },
      env: { TOKEN: 't' },
      affinity: 'agent-A',
    });
    expect(result).toMatchObject({ status: 'success', returnValue: '42', stdout: ['env TOKEN\n'] });
  });

  test('a JavaScript tool has no require, no host process, no fetch to the network', async () => {
    const result = await sandbox.run({
      language: 'javascript',
      sourceCode: 'async function probe() {\n  let fetched;\n  try { await fetch("http://127.0.0.1/"); fetched = "yes"; } catch (e) { fetched = e.message; }\n  return { require: typeof require, fs: typeof globalThis.fs, pid: typeof process.pid, fetched };\n}\n',
      functionName: 'probe',
      args: {},
      env: {},
      affinity: 'agent-A',
    });
    const probe = JSON.parse(result.returnValue) as Record<string, string>;
    expect(probe).toMatchObject({ require: 'undefined', fs: 'undefined', pid: 'undefined' });
    expect(probe.fetched).toContain('TOOL_NETWORK');
  });

  test('a JavaScript error and a runaway loop', async () => {
    const thrown = await sandbox.run({ language: 'javascript', sourceCode: 'function f({ n }) { throw new TypeError("bad n " + n); }', functionName: 'f', args: { n: 3 }, env: {}, affinity: 'agent-A' });
    expect(thrown).toMatchObject({ status: 'error', errorType: 'TypeError', returnValue: 'TypeError: bad n 3' });
    const loop = await sandbox.run({ language: 'javascript', sourceCode: 'function f() { for (;;) {} }', functionName: 'f', args: {}, env: {}, affinity: 'agent-A', timeoutMs: 300 });
    expect(loop).toMatchObject({ status: 'error', errorType: 'TimeoutError' });
    const code = await sandbox.runCode('typescript', 'const xs: number[] = [1, 2, 3];\nconsole.log("n", xs.length);\nxs.reduce((a, b) => a + b, 0)', { affinity: 'agent-A' });
    expect(code).toMatchObject({ status: 'success', returnValue: '6', stdout: ['n 3\n'] });
  });

  test('calls at once all complete, on no more processes than configured; cancelled calls stop', async () => {
    const calls = Array.from({ length: 8 }, (_, i) =>
      sandbox.run({ language: 'javascript', sourceCode: `function f(i) { let s = 0; for (let k = 0; k < 1e5; k++) s += k; return i; }`, functionName: 'f', args: { i }, env: {}, affinity: `agent-A` }),
    );
    const results = await Promise.all(calls);
    expect(results.map((r) => r.returnValue)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(sandbox.pids().length).toBeLessThanOrEqual(settings.processes);

    const controller = new AbortController();
    const pending = sandbox.run({ language: 'javascript', sourceCode: 'function f() { for (;;) {} }', functionName: 'f', args: {}, env: {}, affinity: 'agent-A', signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect(await pending).toMatchObject({ status: 'error', errorType: 'Cancelled' });
  });

  test('past the waiting bound new calls are refused as Overloaded', async () => {
    const small = new ToolSandbox({ ...settings, processes: 1, maxWaiting: 1 });
    try {
      const slow = { language: 'javascript' as const, sourceCode: 'function f() { const end = Date.now() + 300; while (Date.now() < end) {} return 1; }', functionName: 'f', args: {}, env: {}, affinity: 'x' };
      const results = await Promise.all([small.run(slow), small.run(slow), small.run(slow)]);
      // Which of the three is refused depends on which compile finishes last; exactly one is.
      expect(results.map((r) => r.errorType).sort()).toEqual(['Overloaded', null, null]);
    } finally {
      await small.close();
    }
  });
});

describe('the child process', () => {
  test('runs with an empty environment and, under the permission model, cannot read host files or spawn', async () => {
    const launch = resolveChildLaunch();
    const probe = path.join(path.dirname(launch.entry), `probe-${process.pid}.js`);
    if (!launch.readable.some((dir) => probe.startsWith(dir))) return; // running from dist: covered by the tool tests above
    fs.writeFileSync(
      probe,
      `const out = { env: Object.keys(process.env) };
       for (const [name, attempt] of Object.entries({
         read: () => require('fs').readFileSync('/etc/hostname'),
         write: () => require('fs').writeFileSync('${path.dirname(launch.entry)}/written', 'x'),
         spawn: () => require('child_process').execFileSync('/bin/true'),
         worker: () => new (require('worker_threads').Worker)('1', { eval: true }),
         codegen: () => new Function('return 1')(),
       })) { try { attempt(); out[name] = 'allowed'; } catch (e) { out[name] = e.code || e.name; } }
       process.send(out, () => process.exit(0));`,
    );
    try {
      const child = fork(probe, [], { env: {}, execArgv: launch.execArgv, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      const report = await new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
      expect(report.env).toEqual([]);
      expect(report.codegen).toBe('EvalError');
      if (launch.execArgv.some((flag) => flag.includes('permission'))) {
        // Worker threads are allowed by the flags (the child's watchdog is one); the child's own lock-down refuses any other.
        expect(report).toMatchObject({ read: 'ERR_ACCESS_DENIED', write: 'ERR_ACCESS_DENIED', spawn: 'ERR_ACCESS_DENIED' });
      }
    } finally {
      fs.rmSync(probe, { force: true });
    }
  });

  test('ends when the process that started it is killed, even in the middle of a call that never returns', async () => {
    const launch = resolveChildLaunch();
    const config = {
      pyodideDir: launch.pyodideDir,
      quickjsCore: launch.quickjsCore,
      quickjsVariant: launch.quickjsVariant,
      networkEnabled: false,
      allowPrivateNetworks: false,
      maxOutputChars: 1_000,
      jsMemoryLimitBytes: 64 * 1024 * 1024,
    };
    // A stand-in for the llm-worker: it starts a child, gives it a loop that never ends, and reports the child's pid.
    const parentScript = `
      const child = require('node:child_process').fork(${JSON.stringify(launch.entry)}, [${JSON.stringify(JSON.stringify(config))}], { env: {}, execArgv: ${JSON.stringify(launch.execArgv)}, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      child.on('message', (message) => {
        if (message.type !== 'ready') return;
        child.send({ type: 'run', id: 1, mode: 'code', language: 'javascript', sourceCode: 'for (;;) {}', functionName: '', args: {}, env: {}, agent: null, returnCharLimit: 100, timeoutMs: 600000 });
        setTimeout(() => process.send({ child: child.pid }), 1500);
      });`;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    const { child } = await new Promise<{ child: number }>((resolve) => parent.once('message', (message) => resolve(message as { child: number })));
    const alive = (pid: number) => {
      try {
        return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(alive(child)).toBe(true);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    while (alive(child) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(child)).toBe(false);
  });
});
