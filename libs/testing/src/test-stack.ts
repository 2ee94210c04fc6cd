import { resolve } from 'node:path';
import { startFakeModelServer, type FakeModelServer } from '@lrs/fake-model';
import { SERVICE_NAMES, ServiceProcess, freePort, startServices, waitForHttp, type ServiceName } from '@lrs/local-stack';
import { createTestDatabase, type TestDatabase } from './test-database';
import { startTestNats, type TestNats } from './test-nats';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export interface TestStackOptions {
  /** Extra environment for every service (e.g. CALLBACK_TIMEOUT_MS). */
  env?: Record<string, string>;
  services?: readonly ServiceName[];
  fakeModel?: { latencyMs?: number; tokenDelayMs?: number };
  /** A database prepared by the test (e.g. on its own Postgres server); default: a fresh one on the machine's. */
  database?: TestDatabase;
}

/**
 * The whole product for a black-box test: a private nats-server, a fresh Postgres database, the
 * fake model, and every service from `dist/` as its own process. Service output is kept and
 * printed only when a test asks for it (or LOG_SERVICES=1), so a green run stays quiet.
 */
export class TestStack {
  private constructor(
    readonly logs: string[],
    readonly nats: TestNats,
    readonly database: TestDatabase,
    readonly model: FakeModelServer,
    readonly services: Map<ServiceName, ServiceProcess>,
    readonly baseUrl: string,
    private readonly serviceEnv: Record<string, string>,
  ) {}

  /** Processes started by startReplica, stopped with the stack. */
  readonly replicas: ServiceProcess[] = [];

  static async start(options: TestStackOptions = {}): Promise<TestStack> {
    const started = await Promise.allSettled([startTestNats(), options.database ?? createTestDatabase(), startFakeModelServer(options.fakeModel ?? {}), freePort()] as const);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      const [natsResult, databaseResult, modelResult] = started;
      if (natsResult.status === 'fulfilled') await natsResult.value.stop();
      if (databaseResult.status === 'fulfilled') await databaseResult.value.drop();
      if (modelResult.status === 'fulfilled') await modelResult.value.close();
      throw (failure as PromiseRejectedResult).reason;
    }
    const [nats, database, model, port] = started.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [
      TestNats,
      TestDatabase,
      FakeModelServer,
      number,
    ];
    const logs: string[] = [];
    const env: Record<string, string> = {
      NATS_URL: nats.url,
      DATABASE_URL: database.url,
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: 'test-key',
      PORT: String(port),
      HOST: '127.0.0.1',
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      MODEL_RETRY_BASE_MS: '20',
      CALLBACK_RETRY_BASE_MS: '100',
      NO_COLOR: '1',
      ...options.env,
    };
    const processes = startServices({ repoRoot: REPO_ROOT, names: options.services ?? SERVICE_NAMES, onLine: logLineTo(logs), env });
    const stack = new TestStack(logs, nats, database, model, new Map(processes.map((p) => [p.name, p])), `http://127.0.0.1:${port}`, env);
    try {
      await waitForHttp(`${stack.baseUrl}/v1/health`, 60_000);
    } catch (error) {
      await stack.stop();
      throw new Error(`${String(error)}\n${logs.slice(-40).join('\n')}`);
    }
    return stack;
  }

  service(name: ServiceName): ServiceProcess {
    const service = this.services.get(name);
    if (!service) throw new Error(`service ${name} is not part of this stack`);
    return service;
  }

  /**
   * One more process of a service (not the gateway, whose port is taken), sharing its durable
   * consumers, so JetStream spreads the work between them; not ready before its first pull.
   */
  startReplica(name: Exclude<ServiceName, 'gateway'>): ServiceProcess {
    const replica = new ServiceProcess({ name, repoRoot: REPO_ROOT, env: this.serviceEnv, onLine: logLineTo(this.logs), replica: this.replicas.length + 2 });
    replica.start();
    this.replicas.push(replica);
    return replica;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.services.values(), ...this.replicas].map((service) => service.stop()));
    await Promise.allSettled([this.model.close(), this.nats.stop()]);
    await this.database.drop().catch(() => undefined);
  }
}

function logLineTo(logs: string[]) {
  return (name: ServiceName, line: string) => {
    logs.push(`[${name}] ${line}`);
    if (process.env.LOG_SERVICES === '1') process.stdout.write(`[${name}] ${line}\n`);
  };
}
