import { Inject, Injectable, Logger } from '@nestjs/common';
import type { LettaMessage } from '@lrs/contracts';
import { WORKER_SETTINGS, type WorkerSettings } from './config/env';

/**
 * Crash points for tests that must kill the worker at one exact moment, which no outside signal
 * can hit reliably. Off unless the test's environment names a marker: then a step whose messages
 * contain the marker SIGKILLs its own process on its first delivery, right after its rows and
 * memory edits are committed and before its event is appended.
 */
@Injectable()
export class FaultInjection {
  private readonly logger = new Logger(FaultInjection.name);

  constructor(@Inject(WORKER_SETTINGS) private readonly settings: WorkerSettings) {}

  afterStepWrite(messages: readonly LettaMessage[], deliveryCount: number): void {
    const marker = this.settings.killAfterStepWriteMarker;
    if (!marker || deliveryCount !== 1 || !JSON.stringify(messages).includes(marker)) return;
    this.logger.warn('FAULT_KILL_AFTER_STEP_WRITE: killing this process between the step write and its append');
    process.kill(process.pid, 'SIGKILL');
  }
}
