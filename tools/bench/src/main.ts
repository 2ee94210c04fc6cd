import { join } from 'node:path';
import { runBench } from './bench';
import { Cleanup } from './cleanup';
import { parseArgs, type BenchConfig } from './config';
import { renderReport, writeResults } from './report';
import { REPO_ROOT } from './stack';
import { errorMessage, progress } from './util';

/**
 * `npm run bench [-- --quick --json ...]`: the whole stack on this machine (own nats-server, a
 * fresh Postgres database, the fake model in-process, every service as its own process), driven
 * over HTTP; prints the figures, writes them with a chart under bench/results/, and exits 1 when
 * any run did not complete with exactly one callback. Everything it started is stopped on the way
 * out, also on failure and Ctrl-C.
 */
async function main(): Promise<void> {
  let config: BenchConfig;
  try {
    config = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`);
    process.exit(2);
  }

  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: stopping everything the bench started`);
    void cleanup.runAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const outcome = await runBench(config, cleanup, () => interrupted);
    if (interrupted) return;
    progress('stopping the stack');
    await cleanup.runAll();
    const files = writeResults(outcome, config, join(REPO_ROOT, 'bench', 'results'));
    process.stdout.write(`${renderReport(outcome, config)}\n`);
    process.stdout.write(`results: ${files.map((file) => `bench/results/${file}`).join(', ')}\n`);
    if (outcome.failures.length > 0) {
      process.stderr.write(`\nbench FAILED its correctness checks:\n${outcome.failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    }
    if (config.json) process.stdout.write(`${JSON.stringify(outcome.figures)}\n`);
    process.exitCode = outcome.failures.length > 0 ? 1 : 0;
  } catch (error) {
    if (interrupted) return;
    process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanup.runAll();
    process.exitCode = 1;
  }
  // Lingering handles (keep-alive sockets, NATS timers) must not keep a finished bench alive.
  setTimeout(() => process.exit(), 100).unref();
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`bench: unhandled rejection: ${errorMessage(reason)}\n`);
});

void main();
