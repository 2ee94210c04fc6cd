import { readFileSync } from 'node:fs';
import { startFakeModelServer, type FakeModelServer } from '@lrs/fake-model';
import { freePort, startServices, waitForHttp, type ServiceProcess } from '@lrs/local-stack';
import { CallbackReceiver, REPO_ROOT, createTestDatabase, startNatsCluster, type NatsCluster, type TestDatabase } from '@lrs/testing';

/** A service process with the port its probes answer on. */
export interface ScaledProcess {
  process: ServiceProcess;
  readyUrl: string;
}

/**
 * The product scaled out as in production, on one machine: a 3-node NATS cluster (each node a
 * host of its own where network namespaces can be made) with every stream and bucket at 3
 * replicas, `replicas` processes of each service (each with its own probe port), and one gateway
 * process that serves its port from `gatewayWorkers` workers.
 */
export class ScaleStack {
  private constructor(
    readonly cluster: NatsCluster,
    readonly database: TestDatabase,
    readonly model: FakeModelServer,
    readonly receiver: CallbackReceiver,
    readonly processes: ScaledProcess[],
    readonly baseUrl: string,
    readonly logs: string[],
  ) {}

  static async start(options: { replicas: number; gatewayWorkers: number; env?: Record<string, string> }): Promise<ScaleStack> {
    const cluster = await startNatsCluster({ size: 3 });
    const [database, model, receiver, port] = await Promise.all([createTestDatabase(), startFakeModelServer({}), CallbackReceiver.start(), freePort()]);
    model.recordRequests = false;
    const logs: string[] = [];
    const common = {
      NATS_URL: cluster.url,
      JETSTREAM_REPLICAS: '3',
      // A node that vanishes is noticed after two unanswered pings.
      NATS_PING_INTERVAL_MS: '2000',
      DATABASE_URL: database.url,
      OPENAI_BASE_URL: model.url,
      OPENAI_API_KEY: 'test-key',
      PORT: String(port),
      HOST: '127.0.0.1',
      GATEWAY_WORKERS: String(options.gatewayWorkers),
      CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
      CALLBACK_RETRY_BASE_MS: '200',
      MODEL_RETRY_BASE_MS: '20',
      NO_COLOR: '1',
      ...options.env,
    };
    const onLine = (name: string, line: string) => {
      logs.push(`[${name}] ${line}`);
      if (logs.length > 100_000) logs.splice(0, 10_000);
      if (process.env.LOG_SERVICES === '1') process.stdout.write(`[${name}] ${line}\n`);
    };
    const processes: ScaledProcess[] = [];
    for (const name of ['projector', 'orchestrator', 'llm-worker', 'callback-dispatcher'] as const) {
      for (let replica = 1; replica <= options.replicas; replica++) {
        const healthPort = await freePort();
        const [service] = startServices({
          repoRoot: REPO_ROOT,
          names: [name],
          env: { ...common, HEALTH_PORT: String(healthPort) },
          // As a supervisor (Kubernetes, systemd) does: a process that exits is started again.
          restartOnExit: true,
          onLine: (_, line) => onLine(`${name}#${replica}`, line),
        });
        processes.push({ process: service, readyUrl: `http://127.0.0.1:${healthPort}/readyz` });
      }
    }
    const [gateway] = startServices({ repoRoot: REPO_ROOT, names: ['gateway'], env: common, restartOnExit: true, onLine: (_, line) => onLine('gateway', line) });
    const baseUrl = `http://127.0.0.1:${port}`;
    processes.push({ process: gateway, readyUrl: `${baseUrl}/readyz` });
    const stack = new ScaleStack(cluster, database, model, receiver, processes, baseUrl, logs);
    try {
      await stack.waitReady(120_000);
    } catch (error) {
      await stack.stop();
      throw new Error(`${String(error)}\n${logs.slice(-40).join('\n')}`);
    }
    return stack;
  }

  get gateway(): ServiceProcess {
    return this.processes[this.processes.length - 1].process;
  }

  /** The gateway's worker processes (children of its primary). */
  gatewayWorkerPids(): number[] {
    const pid = this.gateway.pid;
    if (!pid) return [];
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  }

  /** Every process answers its readiness probe. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    await Promise.all(
      this.processes.map((scaled) =>
        waitForHttp(scaled.readyUrl, timeoutMs).catch((error: Error) => {
          const label = scaled.process.label;
          throw new Error(`${label} (${scaled.process.unexpectedExits} unexpected exits): ${error.message}\n${this.logs.filter((line) => line.startsWith(`[${label}`)).slice(-30).join('\n')}`);
        }),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.processes.map((scaled) => scaled.process.stop()));
    await Promise.allSettled([this.model.close(), this.receiver.stop(), this.cluster.stop()]);
    await this.database.drop().catch(() => undefined);
  }
}
