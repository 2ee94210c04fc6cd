import { HttpException, HttpStatus, Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ConnectionWatch, RunBacklog } from '@lrs/jetstream';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';

/**
 * A 503 (or, for a caller over its own share, a 429) that the official client retries after
 * `Retry-After` seconds; nothing was written.
 */
export class Overloaded extends HttpException {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
    status: HttpStatus.SERVICE_UNAVAILABLE | HttpStatus.TOO_MANY_REQUESTS = HttpStatus.SERVICE_UNAVAILABLE,
  ) {
    super({ detail }, status);
  }
}

/**
 * Admission control for new runs. Past a bound of accepted-but-unstarted work (run events the
 * orchestrator and the llm-workers have not received yet, read from JetStream every
 * RUN_BACKLOG_CHECK_MS) or of run creations in progress in this process, a create answers 503 with
 * Retry-After before anything is written, so the runs already accepted keep their latency instead
 * of everything queueing without bound.
 */
@Injectable()
export class AdmissionControl implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AdmissionControl.name);
  private backlog = 0;
  private creating = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly runBacklog: RunBacklog,
    private readonly nats: ConnectionWatch,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  onModuleInit(): void {
    if (this.settings.runBacklogLimit <= 0) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.settings.runBacklogCheckMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Admits one run creation or throws Overloaded; call the returned function when it is done. */
  admit(): () => void {
    const { runBacklogLimit, maxConcurrentCreates } = this.settings;
    // Without NATS nothing can be appended: say so at once rather than after the publish timeout.
    if (!this.nats.up) throw new Overloaded('The event log is unreachable; the run was not created. Retry shortly.', 2);
    if (runBacklogLimit > 0 && this.backlog > runBacklogLimit) {
      throw new Overloaded(`The server is at capacity (${this.backlog} run events waiting); the run was not created. Retry shortly.`, 1);
    }
    if (this.creating >= maxConcurrentCreates) {
      throw new Overloaded('Too many runs are being created at once; the run was not created. Retry shortly.', 1);
    }
    this.creating++;
    let released = false;
    return () => {
      if (!released) this.creating--;
      released = true;
    };
  }

  private async refresh(): Promise<void> {
    try {
      this.backlog = await this.runBacklog.pending();
    } catch (error) {
      // Unknown backlog: keep the last figure; the create itself fails fast if NATS is gone.
      this.logger.debug(`run backlog unknown: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
