import cluster, { type Worker } from 'node:cluster';

export interface ProcessWorkersOptions {
  /** Processes serving the same port; 1 runs `start` in this process, as without workers. */
  workers: number;
  /** What every worker runs: boots the app and listens. */
  start: () => Promise<void>;
  /** Where the primary reports what it does. */
  log: (line: string) => void;
}

/**
 * Runs `start` in N processes that share one listening port (Node's cluster module: the primary
 * accepts connections and hands them to the workers in turn). This is how one machine's cores
 * serve one port; on Kubernetes, run one worker per pod and scale pods instead.
 *
 * The primary restarts a worker that dies. SIGTERM or SIGINT stops the workers gracefully (each
 * drains its requests) and then the primary. SIGHUP rolls the workers one at a time: a new one is
 * started and listening before the old one is asked to drain, so the port never lacks a worker.
 */
export async function runProcessWorkers(options: ProcessWorkersOptions): Promise<void> {
  if (options.workers <= 1 || !cluster.isPrimary) return options.start();

  let stopping = false;
  let rolling: Promise<void> | null = null;
  const retiring = new Set<Worker>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once('exit', (code, signal) => {
      if (stopping || retiring.delete(worker)) return;
      options.log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
      setTimeout(() => {
        if (!stopping) fork();
      }, 500);
    });
    return worker;
  };
  const listening = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      worker.once('listening', () => resolve());
      worker.once('exit', (code, signal) => reject(new Error(`worker exited (${signal ?? code}) before listening`)));
    });
  const drain = (worker: Worker) =>
    new Promise<void>((resolve) => {
      if (worker.isDead()) return resolve();
      worker.once('exit', () => resolve());
      worker.process.kill('SIGTERM');
    });

  const roll = async () => {
    for (const old of Object.values(cluster.workers ?? {})) {
      if (!old || stopping) continue;
      const replacement = fork();
      try {
        await listening(replacement);
      } catch (error) {
        options.log(`rolling restart stopped: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      retiring.add(old);
      await drain(old);
    }
    options.log('rolling restart done');
  };

  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.log(`${signal}: stopping ${Object.keys(cluster.workers ?? {}).length} workers`);
    await Promise.all(Object.values(cluster.workers ?? {}).map((worker) => (worker ? drain(worker) : undefined)));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (stopping || rolling) return;
    options.log('SIGHUP: rolling restart of the workers');
    rolling = roll().finally(() => (rolling = null));
  });

  const first = Array.from({ length: options.workers }, fork);
  await Promise.all(first.map(listening));
  options.log(`${options.workers} workers listening (pids ${first.map((worker) => worker.process.pid).join(', ')})`);
}
