import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '@lrs/local-stack';
import { REPO_ROOT, createTestDatabase, startTestNats, type TestDatabase, type TestNats } from '@lrs/testing';

/** `npm start` (the launcher) with no configuration is safe on a reachable machine (README, "Authentication"). */
describe('npm start defaults', () => {
  let nats: TestNats;
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    [nats, database] = await Promise.all([startTestNats(), createTestDatabase()]);
    dataDir = mkdtempSync(join(tmpdir(), 'lrs-launcher-'));
  });
  afterAll(async () => {
    await Promise.all([nats?.stop(), database?.drop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const launch = (env: Record<string, string>) => {
    // NATS and Postgres are the test's, so that only the launcher's own choices are under test.
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/tools/launcher/src/main.js')], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, NATS_URL: nats.url, DATABASE_URL: database.url, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, lines, exited };
  };

  const waitForLine = async (lines: string[], pattern: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.some((line) => pattern.test(line))) {
      if (Date.now() > deadline) throw new Error(`no line matching ${pattern} in:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('listens on loopback only, needs no key there, and says so', async () => {
    const port = await freePort();
    const { child, lines, exited } = launch({ PORT: String(port) });
    try {
      await waitForLine(lines, /server ready at/, 60_000);
      expect(lines.join('\n')).toContain('Local mode: listening on 127.0.0.1 only, no API keys');
      expect((await fetch(`http://127.0.0.1:${port}/v1/agents`)).status).toBe(200);
      // From any other address of this machine, nothing answers.
      const outside = Object.values(networkInterfaces()).flat().find((address) => address && !address.internal && address.family === 'IPv4');
      if (outside) expect(await connects(outside.address, port)).toBe(false);
    } finally {
      child.kill('SIGINT');
      await exited;
    }
  }, 90_000);

  it('refuses to expose the server without a key, before starting anything', async () => {
    const { lines, exited } = launch({ PORT: String(await freePort()), HOST: '0.0.0.0' });
    expect(await exited).toBe(1);
    expect(lines.join('\n')).toContain('HOST=0.0.0.0 exposes the server: set BOOTSTRAP_API_KEY');
  }, 30_000);
});

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
