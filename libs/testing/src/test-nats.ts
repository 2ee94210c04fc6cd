import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { startNatsServer, stopChild, type RunningNats } from '@lrs/local-stack';

/** A test's nats-server, which a test can kill and start again on the same port and store (an outage). */
export interface TestNats extends RunningNats {
  /** The HTTP monitoring endpoint (`/varz`, `/connz`, ...) when started with `monitorPort`, else null. */
  monitorUrl: string | null;
  /** SIGKILL: no goodbye to clients, unflushed state as the store left it. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store after `kill`. */
  restart(): Promise<void>;
}

export interface TestNatsOptions {
  configFile?: string;
  env?: Record<string, string>;
  /** Serves nats-server's HTTP monitoring on this port of 127.0.0.1 (none without). */
  monitorPort?: number;
}

/** A private nats-server with JetStream on a free port and a temporary store, removed on stop; optionally with a configuration file. */
export async function startTestNats(options: TestNatsOptions = {}): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'lrs-nats-'));
  const { monitorPort, ...serverOptions } = options;
  if (monitorPort !== undefined) serverOptions.configFile = withMonitoring(storeDir, monitorPort, options.configFile);
  let current = await startNatsServer({ storeDir, ...serverOptions });
  const { port, url } = current;
  return {
    url,
    port,
    monitorUrl: monitorPort === undefined ? null : `http://127.0.0.1:${monitorPort}`,
    get process() {
      return current.process;
    },
    kill: () => stopChild(current.process, 0, 'SIGKILL'),
    restart: async () => {
      current = await startNatsServer({ storeDir, port, ...serverOptions });
    },
    stop: async () => {
      await current.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * A configuration file in `dir` that turns on monitoring (startNatsServer takes no monitoring
 * flag), on top of `configFile` if given: nats-server resolves an include relative to the
 * including file, so the given file and its own includes are read from where they are.
 */
function withMonitoring(dir: string, monitorPort: number, configFile: string | undefined): string {
  const file = join(dir, 'monitoring.conf');
  const include = configFile === undefined ? '' : `include "${relative(dirname(file), configFile)}"\n`;
  writeFileSync(file, `${include}http: "127.0.0.1:${monitorPort}"\n`);
  return file;
}
