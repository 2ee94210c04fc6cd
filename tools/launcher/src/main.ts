import { resolve } from 'node:path';
import { Env, isLoopback } from '@lrs/config';
import { startFakeModelServer, type FakeModelServer } from '@lrs/fake-model';
import {
  ensureDatabase,
  startEmbeddedPostgres,
  startNatsServer,
  startServices,
  waitForHttp,
  type RunningNats,
  type RunningPostgres,
  type ServiceProcess,
} from '@lrs/local-stack';
import { runReadModelMigrations } from '@lrs/read-model';

/**
 * `npm start`: the whole product on one machine. Uses NATS_URL, DATABASE_URL and OPENAI_BASE_URL
 * when given; otherwise starts a nats-server child, an embedded Postgres and the built-in fake
 * model, with their data under DATA_DIR. Every service runs as its own process and is restarted
 * if it dies: REPLICAS processes of each service but the gateway, which runs GATEWAY_WORKERS
 * processes on its one port. Ctrl-C stops everything cleanly.
 */
async function main(): Promise<void> {
  const env = new Env();
  const repoRoot = resolve(__dirname, '..', '..', '..', '..');
  const dataDir = resolve(env.string('DATA_DIR', resolve(repoRoot, '.data')));
  const port = env.int('PORT', 8283, { min: 1, max: 65535 });
  // Checked here, before anything starts; the services read them again themselves.
  const replicas = env.int('REPLICAS', 1, { min: 1, max: 32 });
  const gatewayWorkers = env.int('GATEWAY_WORKERS', 1, { min: 1, max: 64 });
  const streamReplicas = env.int('JETSTREAM_REPLICAS', 1, { min: 1, max: 5 });
  const cleanups: (() => Promise<void>)[] = [];
  let services: ServiceProcess[] = [];

  const shutdown = async (code: number) => {
    console.log('\nstopping...');
    await Promise.allSettled(services.map((service) => service.stop()));
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    const host = env.string('HOST', '127.0.0.1');
    const localMode = isLoopback(host) && !env.optionalString('BOOTSTRAP_API_KEY');
    if (!isLoopback(host) && !env.optionalString('BOOTSTRAP_API_KEY') && !env.bool('ALLOW_UNAUTHENTICATED', false)) {
      // The gateway would refuse too; saying it before anything starts spares a restart loop.
      throw new Error(`HOST=${host} exposes the server: set BOOTSTRAP_API_KEY (an admin API key), or ALLOW_UNAUTHENTICATED=true if something in front authenticates`);
    }
    let natsUrl = env.optionalString('NATS_URL');
    if (!natsUrl && streamReplicas > 1) {
      throw new Error(`JETSTREAM_REPLICAS=${streamReplicas} needs a NATS cluster of at least ${streamReplicas} servers: set NATS_URL to its servers (README, "Scaling out")`);
    }
    if (!natsUrl) {
      const nats: RunningNats = await startNatsServer({ storeDir: resolve(dataDir, 'nats') });
      cleanups.push(() => nats.stop());
      natsUrl = nats.url;
      console.log(`started nats-server (JetStream) at ${natsUrl}`);
    }

    let databaseUrl = env.optionalString('DATABASE_URL');
    if (!databaseUrl) {
      const postgres: RunningPostgres = await startEmbeddedPostgres({ dataDir: resolve(dataDir, 'postgres') });
      cleanups.push(() => postgres.stop());
      databaseUrl = await ensureDatabase(postgres.adminUrl, 'letta');
      console.log('started embedded Postgres');
    }
    const applied = await runReadModelMigrations(databaseUrl);
    if (applied.length) console.log(`applied migrations: ${applied.join(', ')}`);

    let openaiBaseUrl = env.optionalString('OPENAI_BASE_URL');
    let openaiApiKey = env.optionalString('OPENAI_API_KEY');
    if (!openaiBaseUrl) {
      const fake: FakeModelServer = await startFakeModelServer({ latencyMs: env.int('FAKE_MODEL_LATENCY_MS', 0, { min: 0 }) });
      fake.recordRequests = false;
      cleanups.push(() => fake.close());
      openaiBaseUrl = fake.url;
      openaiApiKey = 'fake';
      console.log(`no OPENAI_BASE_URL set: using the built-in fake model at ${fake.url}`);
    }

    services = startServices({
      repoRoot,
      restartOnExit: true,
      replicas,
      env: {
        GATEWAY_WORKERS: String(gatewayWorkers),
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        OPENAI_BASE_URL: openaiBaseUrl,
        OPENAI_API_KEY: openaiApiKey ?? 'not-set',
        PORT: String(port),
        // Local mode (loopback, no keys): callbacks to this machine or its network are expected
        // here. With keys or another address, the SSRF guard stays on unless set otherwise.
        CALLBACK_ALLOW_PRIVATE_NETWORKS: env.string('CALLBACK_ALLOW_PRIVATE_NETWORKS', localMode ? 'true' : 'false'),
      },
    });
    const base = `http://${isLoopback(host) ? '127.0.0.1' : host}:${port}`;
    await waitForHttp(`http://127.0.0.1:${port}/v1/health`, 60_000).catch(() => waitForHttp(`${base}/v1/health`, 5_000));
    console.log(`\nLetta-compatible server ready at ${base} (API docs at ${base}/docs)\n`);
    if (replicas > 1 || gatewayWorkers > 1) {
      console.log(`Processes: ${gatewayWorkers} gateway worker(s) on port ${port}, ${replicas} of each other service.\n`);
    }
    console.log(
      localMode
        ? `Local mode: listening on ${host} only, no API keys, callbacks to private addresses allowed.\n` +
            'To serve other machines, set HOST and BOOTSTRAP_API_KEY (an admin key); see the README, "Authentication".\n'
        : `API keys required: send Authorization: Bearer <key>. Callbacks to private addresses ${env.string('CALLBACK_ALLOW_PRIVATE_NETWORKS', 'false') === 'true' ? 'allowed' : 'refused'}.\n`,
    );
    console.log('Try it:');
    console.log(`  curl -s -X POST ${base}/v1/agents -H 'content-type: application/json' -d '{"name":"demo","model":"openai/gpt-4o-mini"}'`);
    console.log(`  curl -s -X POST ${base}/v1/agents/<agent id>/messages/async -H 'content-type: application/json' -d '{"input":"hello"}'`);
    console.log(`  curl -s ${base}/v1/runs/<run id>\n`);
    console.log('Press Ctrl-C to stop.');
  } catch (error) {
    console.error(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
}

void main();
