import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from './nats-server';

export const SERVICE_NAMES = ['projector', 'orchestrator', 'llm-worker', 'callback-dispatcher', 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Entry point of a built service; `npm run build` puts every app under dist/apps. */
export function serviceEntry(repoRoot: string, name: ServiceName): string {
  return join(repoRoot, 'dist', 'apps', name, 'src', 'main.js');
}

export interface ServiceOptions {
  name: ServiceName;
  repoRoot: string;
  env: Record<string, string>;
  /** Receives each output line of the service; defaults to prefixed stdout. */
  onLine?: (name: ServiceName, line: string) => void;
  /** Restart the process when it exits without being asked to. */
  restartOnExit?: boolean;
  /** Which of the service's processes this is (1-based); shown in its log prefix and in SERVICE_REPLICA. */
  replica?: number;
}

/** One service as a separate OS process, as in production. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private stopping = false;
  restarts = 0;
  /** Exits nobody asked for (crash(), stop() are asked for). */
  unexpectedExits = 0;

  constructor(private readonly options: ServiceOptions) {}

  get name(): ServiceName {
    return this.options.name;
  }

  get replica(): number {
    return this.options.replica ?? 1;
  }

  /** The service's name, with the replica number when there may be several: `llm-worker#2`. */
  get label(): string {
    return this.options.replica === undefined ? this.options.name : `${this.options.name}#${this.options.replica}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The process is up: started, and not exited since. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.stopping = false;
    const child = spawn(process.execPath, [serviceEntry(this.options.repoRoot, this.options.name)], {
      env: { ...process.env, ...this.options.env, SERVICE_NAME: this.options.name, SERVICE_REPLICA: String(this.replica) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onLine = this.options.onLine ?? ((_name, line) => process.stdout.write(`[${this.label}] ${line}\n`));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => onLine(this.options.name, line));
    }
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.unexpectedExits++;
      if (!this.options.restartOnExit) return;
      this.restarts++;
      onLine(this.options.name, `exited (${signal ?? code}); restarting`);
      setTimeout(() => this.start(), Math.min(5_000, 250 * this.restarts));
    });
  }

  /** SIGKILL, as a crash: no shutdown hooks run, unacked messages are redelivered. */
  crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    this.stopping = true;
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** SIGSTOP: the process holds its connections but does nothing, like a hung or starved pod. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGTERM and wait: the service drains its work and exits (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.resume();
    if (this.child) await stopChild(this.child, graceMs);
  }

  /** Sends a signal to the running process (SIGHUP rolls a gateway's workers). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }
}

export interface StartServicesOptions extends Omit<ServiceOptions, 'name' | 'replica'> {
  names?: readonly ServiceName[];
  /**
   * Processes of each service but the gateway (which shares its port among GATEWAY_WORKERS
   * processes of its own instead). Replicas of a service share its durable consumers, so
   * JetStream spreads the work among them.
   */
  replicas?: number;
}

export function startServices(options: StartServicesOptions): ServiceProcess[] {
  const replicas = options.replicas ?? 1;
  return (options.names ?? SERVICE_NAMES).flatMap((name) => {
    const count = name === 'gateway' ? 1 : replicas;
    return Array.from({ length: count }, (_, index) => {
      const service = new ServiceProcess({ ...options, name, replica: count > 1 ? index + 1 : undefined });
      service.start();
      return service;
    });
  });
}
