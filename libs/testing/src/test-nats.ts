import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, type RunningNats } from '@lrs/local-stack';

/** A private nats-server with JetStream on a free port and a temporary store, removed on stop. */
export async function startTestNats(): Promise<RunningNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'lrs-nats-'));
  const nats = await startNatsServer({ storeDir });
  return {
    ...nats,
    stop: async () => {
      await nats.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
