import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LettaMessage } from '@lrs/contracts';
import { WORKER_SETTINGS, type WorkerSettings } from './config/env';

/**
 * Fault points for tests that must stop the worker at one exact moment, which no outside signal
 * can hit reliably: right after a step's rows and memory edits are committed, before its event is
 * appended. Off unless the environment names a marker; then a step whose messages contain it, on
 * its first delivery, SIGKILLs its own process (FAULT_KILL_AFTER_STEP_WRITE) or waits
 * FAULT_PAUSE_MS before appending (FAULT_PAUSE_AFTER_STEP_WRITE), so a test can cancel the run.
 */
@Injectable()
export class FaultInjection {
  private readonly logger = new Logger(FaultInjection.name);

  constructor(@Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings) {}

  async afterStepWrite(messages: readonly LettaMessage[], deliveryCount: number): Promise<void> {
    const { killAfterStepWrite, pauseAfterStepWrite, pauseMs } = this.settings.faults;
    if (deliveryCount !== 1 || (!killAfterStepWrite && !pauseAfterStepWrite)) return;
    const text = JSON.stringify(messages);
    if (killAfterStepWrite && text.includes(killAfterStepWrite)) {
      this.logger.warn('FAULT_KILL_AFTER_STEP_WRITE: killing this process between the step write and its append');
      process.kill(process.pid, 'SIGKILL');
    }
    if (pauseAfterStepWrite && text.includes(pauseAfterStepWrite)) {
      this.logger.warn(`FAULT_PAUSE_AFTER_STEP_WRITE: waiting ${pauseMs} ms between the step write and its append`);
      await sleep(pauseMs);
    }
  }
}
