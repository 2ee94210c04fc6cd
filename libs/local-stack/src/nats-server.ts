import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { freePort, waitForPort } from './ports';

export interface RunningNats {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A `nats-server -js` child on a loopback port with its own store directory; with `configFile`,
 * that configuration too (its port and store are overridden), resolving its `$VARIABLES` from `env`.
 */
export async function startNatsServer(options: { storeDir: string; port?: number; binary?: string; configFile?: string; env?: Record<string, string> }): Promise<RunningNats> {
  mkdirSync(options.storeDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const binary = options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const config = options.configFile ? ['-c', options.configFile] : [];
  const child = spawn(binary, [...config, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', options.storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start ${binary} (${error.message}); install nats-server (e.g. apt-get install nats-server) or set NATS_URL`)),
    );
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`)));
  });
  await Promise.race([waitForPort(port), failed]);
  failed.catch(() => undefined);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess, graceMs = 5_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
