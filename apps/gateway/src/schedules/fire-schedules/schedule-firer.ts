import { HttpException, HttpStatus, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { planFiring, scheduleRunId } from '@lrs/scheduling';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import { RunCreator } from '../../messages/run-creator';
import type { LettaRequestDto } from '../../messages/dto/letta-request.dto';
import { runAs } from '../../auth/caller';
import { ScheduleStore, type FiringResult, type ScheduleRecord } from '../schedule-store';

/** Firings of one claimed batch made at once (each takes a few Postgres and NATS round trips). */
const FIRING_CONCURRENCY = 8;

type Attempt = { made: string } | { refused: string } | { retry: string };

/**
 * Fires due schedules: every gateway process polls the `schedules` table, claims due rows with
 * `FOR UPDATE SKIP LOCKED` (so replicas share the work without doubling it), turns each firing
 * into an ordinary async run through RunCreator (the schedule's organization as caller, the run id
 * derived from the schedule and the firing time, so an attempt repeated after a crash finds the
 * run instead of making a second), then moves the schedule to its next time and commits.
 */
@Injectable()
export class ScheduleFirer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ScheduleFirer.name);
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private tick: Promise<void> | null = null;

  constructor(
    private readonly store: ScheduleStore,
    private readonly runs: RunCreator,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  onApplicationBootstrap(): void {
    if (this.settings.scheduleFiring) this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.tick;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.poll().then((delay) => this.schedule(delay));
    }, delayMs);
    this.timer.unref?.();
  }

  /**
   * One claim; a full batch means more may be due, so the next claim follows at once. Otherwise
   * the next claim is at the earliest due time if that comes before the next poll, so a firing
   * is not late by up to a poll interval; one created meanwhile waits at most the poll interval.
   */
  private async poll(): Promise<number> {
    try {
      const now = new Date();
      const claimed = await this.fireDue(now);
      if (claimed >= this.settings.scheduleBatchSize) return 0;
      const next = await this.store.nextAttemptAfter(now);
      return next ? Math.min(this.settings.schedulePollMs, Math.max(0, next.getTime() - Date.now())) : this.settings.schedulePollMs;
    } catch (error) {
      this.logger.warn(`could not fire due schedules, retrying: ${String(error)}`);
      return Math.max(this.settings.schedulePollMs, 1_000);
    }
  }

  /** Claims and fires the schedules due at `now`; answers how many it claimed. */
  fireDue(now: Date): Promise<number> {
    return this.store.claimDue(now, this.settings.scheduleBatchSize, (due) => this.fireAll(due, now));
  }

  private async fireAll(due: ScheduleRecord[], now: Date): Promise<FiringResult[]> {
    const results: FiringResult[] = new Array(due.length);
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const index = next++;
        results[index] = await this.fireOne(due[index], now);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FIRING_CONCURRENCY, due.length) }, worker));
    return results;
  }

  private async fireOne(schedule: ScheduleRecord, now: Date): Promise<FiringResult> {
    const { misfireGraceMs, allowSeconds } = { misfireGraceMs: this.settings.scheduleMisfireGraceMs, allowSeconds: this.settings.scheduleCronSeconds };
    const plan = planFiring(schedule.spec, schedule.fireAt ?? now, now, misfireGraceMs, allowSeconds);
    const moveOn = (fired: FiringResult['fired'], skipped: number, error: string | null): FiringResult => ({ id: schedule.id, fireAt: plan.next, attemptAt: plan.next, fired, skipped, error });
    if (!plan.fireFor) {
      this.logger.warn(`schedule ${schedule.id}: ${plan.skipped} firing(s) more than ${misfireGraceMs / 1000} s late skipped`);
      return moveOn(null, plan.skipped, `missed: the firing due ${schedule.fireAt?.toISOString()} was more than ${misfireGraceMs / 1000} s late`);
    }
    const runId = scheduleRunId(schedule.id, plan.fireFor);
    const attempt = await this.attempt(schedule, plan.fireFor, runId);
    if ('made' in attempt) return moveOn({ at: plan.fireFor, runId }, plan.skipped, null);
    if ('refused' in attempt) {
      this.logger.warn(`schedule ${schedule.id}: the firing due ${plan.fireFor.toISOString()} was refused, skipped: ${attempt.refused}`);
      return moveOn(null, plan.skipped + 1, attempt.refused);
    }
    // Transient (overload, the log or the database unavailable): the same firing, a little later.
    return { id: schedule.id, fireAt: schedule.fireAt, attemptAt: new Date(now.getTime() + this.settings.scheduleRetryMs), fired: null, skipped: 0, error: attempt.retry };
  }

  /** Creates the firing's run as the async route would, as the schedule's organization. */
  private async attempt(schedule: ScheduleRecord, fireFor: Date, runId: string): Promise<Attempt> {
    const { message } = schedule;
    const body = {
      messages: message.messages,
      max_steps: message.max_steps ?? undefined,
      include_return_message_types: message.include_return_message_types ?? null,
    } as LettaRequestDto;
    try {
      await runAs({ organizationId: schedule.organizationId, keyId: null, admin: false, traceparent: null }, async () => {
        const prepared = await this.runs.prepare(schedule.agentId, body, {
          runType: 'send_message_async',
          background: true,
          callbackUrl: message.callback_url ?? null,
          runId,
          metadata: { schedule_id: schedule.id, scheduled_for: fireFor.toISOString() },
        });
        await this.runs.commit(prepared);
      });
      return { made: runId };
    } catch (error) {
      const detail = describe(error);
      if (error instanceof HttpException) {
        const status = error.getStatus();
        if (status === HttpStatus.TOO_MANY_REQUESTS || status >= 500) return { retry: detail };
        return { refused: detail };
      }
      return { retry: detail };
    }
  }
}

function describe(error: unknown): string {
  const response = error instanceof HttpException ? error.getResponse() : null;
  const detail = response && typeof response === 'object' && 'detail' in response ? String((response as { detail: unknown }).detail) : String(error);
  // Stored in a text column: no NUL.
  return detail.replace(/\u0000/g, '\ufffd').slice(0, 1_000);
}
