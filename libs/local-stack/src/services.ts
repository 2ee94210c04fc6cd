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
      env: { ...process.env, ...this.options.env, SERVICE_NAME: this.options.name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onLine = this.options.onLine ?? ((name, line) => process.stdout.write(`[${name}] ${line}\n`));
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

  async stop(): Promise<void> {
    this.stopping = true;
    this.resume();
    if (this.child) await stopChild(this.child, 10_000);
  }
}

export function startServices(options: Omit<ServiceOptions, 'name'> & { names?: readonly ServiceName[] }): ServiceProcess[] {
  return (options.names ?? SERVICE_NAMES).map((name) => {
    const service = new ServiceProcess({ ...options, name });
    service.start();
    return service;
  });
}
