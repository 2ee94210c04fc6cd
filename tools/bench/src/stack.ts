import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { CONSUMER_POLICIES } from '@lrs/jetstream';
import { startFakeModelServer, type FakeModelServer } from '@lrs/fake-model';
import {
  SERVICE_NAMES,
  freePort,
  serviceEntry,
  startServices,
  waitForHttp,
  type RunningNats,
  type ServiceName,
  type ServiceProcess,
} from '@lrs/local-stack';
import { createTestDatabase, startTestNats, type TestDatabase, type TestNats } from '@lrs/testing';
import { CallbackSink } from './callback-sink';
import type { Cleanup } from './cleanup';
import type { BenchConfig } from './config';
import { readRssKb } from './proc-sampler';
import { errorMessage, progress, sleep } from './util';

/** dist/tools/bench/src -> the repository root. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

export interface BenchStack {
  nats: RunningNats;
  /** nats-server's HTTP monitoring, where the bench reads each connection's message counts. */
  natsMonitorUrl: string;
  database: TestDatabase;
  model: FakeModelServer;
  sink: CallbackSink;
  services: ServiceProcess[];
  baseUrl: string;
  /** The bench's own NATS connection (event tap, stream info, ceiling). */
  nc: NatsConnection;
  jsm: JetStreamManager;
  logs: ServiceLogs;
  /** Where CPU profiles land, one directory per profiled service. */
  profileDir: string | null;
}

/** Keeps service output quiet but at hand: the last lines, and warnings/errors per service. */
export class ServiceLogs {
  readonly warnings = new Map<string, number>();
  readonly warningSamples: string[] = [];
  private readonly recent: string[] = [];

  constructor(private readonly echo: boolean) {}

  readonly onLine = (name: ServiceName, line: string): void => {
    const text = `[${name}] ${line}`;
    if (this.echo) process.stdout.write(`${text}\n`);
    this.recent.push(text);
    if (this.recent.length > 300) this.recent.splice(0, 100);
    if (/\b(WARN|ERROR)\b/.test(line)) {
      this.warnings.set(name, (this.warnings.get(name) ?? 0) + 1);
      // Samples end up in the results file: no machine-specific paths there.
      if (this.warningSamples.length < 20) this.warningSamples.push(text.split(REPO_ROOT).join('<repo>').split(tmpdir()).join('<tmp>').slice(0, 400));
    }
  };

  tail(lines = 40): string {
    return this.recent.slice(-lines).join('\n');
  }
}

export async function startStack(config: BenchConfig, cleanup: Cleanup): Promise<BenchStack> {
  for (const name of SERVICE_NAMES) {
    if (!existsSync(serviceEntry(REPO_ROOT, name))) throw new Error(`${name} is not built; run \`npm run build\` first (or use \`npm run bench\`)`);
  }

  progress('starting nats-server, Postgres database, fake model and callback receiver');
  const [natsResult, databaseResult, modelResult, sinkResult] = await Promise.allSettled([
    startTestNats({ monitorPort: await freePort() }),
    createTestDatabase(),
    startFakeModelServer({ latencyMs: config.modelLatencyMs }),
    CallbackSink.start(),
  ] as const);
  if (natsResult.status === 'fulfilled') cleanup.add('nats-server', () => natsResult.value.stop());
  if (databaseResult.status === 'fulfilled') cleanup.add('database', () => databaseResult.value.drop());
  if (modelResult.status === 'fulfilled') cleanup.add('fake model', () => modelResult.value.close());
  if (sinkResult.status === 'fulfilled') cleanup.add('callback receiver', () => sinkResult.value.stop());
  for (const result of [natsResult, databaseResult, modelResult, sinkResult]) {
    if (result.status === 'rejected') throw new Error(`could not start the stack: ${errorMessage(result.reason)}`);
  }
  const nats = (natsResult as PromiseFulfilledResult<TestNats>).value;
  const natsMonitorUrl = nats.monitorUrl;
  if (natsMonitorUrl === null) throw new Error('nats-server was started without its monitoring port');
  const database = (databaseResult as PromiseFulfilledResult<TestDatabase>).value;
  const model = (modelResult as PromiseFulfilledResult<FakeModelServer>).value;
  const sink = (sinkResult as PromiseFulfilledResult<CallbackSink>).value;
  // Memory stays flat: nothing is kept per request; the bench listens through hooks instead.
  model.recordRequests = false;

  const nc = await connect({ servers: nats.url, name: 'bench' });
  cleanup.add('bench NATS connection', () => nc.close());
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });

  const port = await freePort();
  const logs = new ServiceLogs(config.logServices);
  const profileDir = config.profile.length > 0 ? mkdtempSync(join(tmpdir(), 'lrs-bench-profile-')) : null;
  const commonEnv: Record<string, string> = {
    NATS_URL: nats.url,
    DATABASE_URL: database.url,
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: 'bench',
    PORT: String(port),
    HOST: '127.0.0.1',
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    NO_COLOR: '1',
    GATEWAY_WORKERS: String(config.gatewayWorkers),
    ...config.serviceEnv,
  };
  progress(`starting services${profileDir ? ` (profiling ${config.profile.join(', ')})` : ''}`);
  const services: ServiceProcess[] = [];
  cleanup.add('services', async () => {
    await Promise.allSettled(services.map((service) => service.stop()));
  });
  for (const name of SERVICE_NAMES) {
    const env = { ...commonEnv };
    if (profileDir && config.profile.includes(name)) Object.assign(env, profileEnv(profileDir, name));
    services.push(...startServices({ repoRoot: REPO_ROOT, names: [name], env, onLine: logs.onLine, replicas: config.replicas }));
  }

  const baseUrl = `http://127.0.0.1:${port}`;
  const exits = watchForExit(services);
  try {
    await Promise.race([
      (async () => {
        await waitForHttp(`${baseUrl}/v1/health`, 90_000);
        await waitForConsumers(jsm, 90_000);
      })(),
      exits.exited,
    ]);
  } catch (error) {
    throw new Error(`services did not become ready: ${errorMessage(error)}\n${logs.tail()}`);
  } finally {
    exits.stop();
  }
  return { nats, natsMonitorUrl, database, model, sink, services, baseUrl, nc, jsm, logs, profileDir };
}

/** Rejects as soon as a service process is gone (e.g. it failed to start). */
function watchForExit(services: ServiceProcess[]): { exited: Promise<never>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const gone = services.find((service) => service.pid === undefined || readRssKb(service.pid) === null);
      if (gone) reject(new Error(`${gone.name} exited during start-up`));
    }, 250);
  });
  exited.catch(() => undefined);
  return { exited, stop: () => clearInterval(timer) };
}

/** Every service has provisioned the streams and is pulling from its durable consumer (on the run log or its work queue). */
async function waitForConsumers(jsm: JetStreamManager, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const policies = Object.values(CONSUMER_POLICIES);
  const names = policies.map((policy) => policy.name);
  let waitingFor: string[] = names;
  while (Date.now() < deadline) {
    const pulling = await Promise.all(
      policies.map((policy) =>
        jsm.consumers.info(policy.stream, policy.name).then(
          (info) => info.num_waiting > 0,
          () => false,
        ),
      ),
    );
    waitingFor = names.filter((_, index) => !pulling[index]);
    if (waitingFor.length === 0) return;
    await sleep(200);
  }
  throw new Error(`no service pulls from ${waitingFor.join(', ')} after ${timeoutMs} ms`);
}

/** Node 20 refuses --cpu-prof in NODE_OPTIONS; a preloaded inspector session does the same. */
function profileEnv(profileDir: string, name: ServiceName): Record<string, string> {
  const dir = join(profileDir, name);
  mkdirSync(dir, { recursive: true });
  const preload = join(__dirname, 'profile-preload.js');
  const inherited = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : '';
  return { NODE_OPTIONS: `${inherited}--require "${preload}"`, BENCH_CPU_PROFILE_DIR: dir };
}
