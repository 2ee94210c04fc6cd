import { Env } from '@lrs/config';
import { startFakeModelServer } from '@lrs/fake-model';

async function main(): Promise<void> {
  const env = new Env();
  const server = await startFakeModelServer({
    host: env.string('HOST', '127.0.0.1'),
    port: env.int('PORT', 8399, { min: 0, max: 65_535 }),
    latencyMs: env.int('FAKE_MODEL_LATENCY_MS', 0, { min: 0 }),
    tokenDelayMs: env.int('FAKE_MODEL_TOKEN_DELAY_MS', 0, { min: 0 }),
  });
  console.log(`fake model listening on ${server.url}`);

  const shutdown = (): void => {
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('fake model failed to close', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error('fake model failed to start', error);
  process.exit(1);
});
