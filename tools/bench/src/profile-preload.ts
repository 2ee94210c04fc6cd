/**
 * Loaded with `--require` (through NODE_OPTIONS, which does not allow `--cpu-prof` on Node 20)
 * into services the bench profiles: samples the CPU from start-up with the inspector's profiler,
 * like `--cpu-prof`, and writes a `.cpuprofile` into BENCH_CPU_PROFILE_DIR when the process ends.
 * A same-thread inspector session answers synchronously, so the profile can be written from the
 * `exit` event. Nest's shutdown hooks end by re-raising the signal, which would kill the process
 * without an `exit` event; with these listeners in place the re-raised signal lands here instead.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const directory = process.env.BENCH_CPU_PROFILE_DIR;

if (directory) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1_000 });
  session.post('Profiler.start');

  let written = false;
  const writeProfile = (): void => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (error, result) => {
      if (error || !result?.profile) return;
      writeFileSync(join(directory, `${process.env.SERVICE_NAME ?? 'node'}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  process.on('exit', writeProfile);

  let signals = 0;
  const onSignal = (): void => {
    signals++;
    // The second one is Nest re-raising the signal after its shutdown hooks.
    if (signals > 1) process.exit(0);
    // In case nothing else ends the process.
    setTimeout(() => process.exit(0), 8_000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
