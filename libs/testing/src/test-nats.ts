import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, stopChild, type RunningNats } from '@lrs/local-stack';

/** A test's nats-server, which a test can kill and start again on the same port and store (an outage). */
export interface TestNats extends RunningNats {
  /** SIGKILL: no goodbye to clients, unflushed state as the store left it. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store after `kill`. */
  restart(): Promise<void>;
}

/** A private nats-server with JetStream on a free port and a temporary store, removed on stop; optionally with a configuration file. */
export async function startTestNats(options: { configFile?: string; env?: Record<string, string> } = {}): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'lrs-nats-'));
  let current = await startNatsServer({ storeDir, ...options });
  const { port, url } = current;
  return {
    url,
    port,
    get process() {
      return current.process;
    },
    kill: () => stopChild(current.process, 0, 'SIGKILL'),
    restart: async () => {
      current = await startNatsServer({ storeDir, port, ...options });
    },
    stop: async () => {
      await current.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
