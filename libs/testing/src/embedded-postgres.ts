import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDatabase, freePort } from '@lrs/local-stack';
import { runReadModelMigrations } from '@lrs/read-model';
import { REPO_ROOT } from './test-stack';
import type { TestDatabase } from './test-database';

/**
 * A Postgres server of a test's own (the embedded one `npm start` uses, in a helper process), so
 * that the test can restart it without disturbing any other test. `database` is migrated and ready
 * to hand to `TestStack.start({ database })`.
 */
export class EmbeddedPostgres {
  private constructor(
    private child: ChildProcess,
    private readonly dataDir: string,
    private readonly port: number,
    readonly database: TestDatabase,
  ) {}

  static async start(): Promise<EmbeddedPostgres> {
    const dataDir = mkdtempSync(join(tmpdir(), 'lrs-pg-'));
    const port = await freePort();
    const started = await launch(join(dataDir, 'pg'), port);
    const url = await ensureDatabase(started.adminUrl, 'letta');
    await runReadModelMigrations(url);
    return new EmbeddedPostgres(started.child, dataDir, port, { url, name: 'letta', drop: async () => undefined });
  }

  /**
   * Fast shutdown (clients are disconnected), then the same data directory and port again after
   * `downMs`; `whileDown` runs during the outage.
   */
  async restart(downMs: number, whileDown: () => Promise<void> = async () => undefined): Promise<void> {
    await stopChild(this.child);
    await Promise.all([new Promise((resolve) => setTimeout(resolve, downMs)), whileDown()]);
    this.child = (await launch(join(this.dataDir, 'pg'), this.port)).child;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function launch(dataDir: string, port: number): Promise<{ child: ChildProcess; adminUrl: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/libs/local-stack/src/postgres-server-main.js'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('ready ')) resolve({ child, adminUrl: line.slice('ready '.length) });
    });
    child.once('exit', (code) => reject(new Error(`embedded Postgres exited (${code}): ${lines.join('\n')}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}
