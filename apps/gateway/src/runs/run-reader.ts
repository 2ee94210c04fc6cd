import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { RunView } from '@lrs/contracts';
import { ACTIVE_STATUSES, foldFromView, foldRun, isTerminalStatus } from '@lrs/domain-run';
import { RunEventStore, type StoredRunEvent } from '@lrs/jetstream';
import { RunQueries, toRunView, type RunListFilter, type RunRow } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { callerOrganization } from '../auth/caller';

/**
 * How long a read of the projector's views of a run waits for the projection to reach the log: on
 * a machine whose cores are all busy the projector can be seconds behind (2 s was too short for a
 * CI run); a stopped projector makes such a read this late.
 */
const PROJECTED_READ_WAIT_MS = 5_000;

/** Events read past the row at most; a run further behind shows as far as these take it. */
const MAX_TOP_UP_EVENTS = 64;

/**
 * Runs as the client should see them: the read model's rows, each topped up from the event log
 * when it shows the run active and the log has moved on (the projector lags or is stopped). A client
 * that saw the run end (a callback, a stream's [DONE], the sync answer) then reads it ended, and
 * the run path never has to wait for the projection to make that true.
 */
@Injectable()
export class RunReader {
  constructor(
    private readonly runs: RunQueries,
    private readonly events: RunEventStore,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async find(runId: string): Promise<RunView> {
    return this.found(runId, await this.findOrNull(runId));
  }

  /** The run as `find` shows it, or null when there is none (or it was deleted). */
  async findOrNull(runId: string): Promise<RunView | null> {
    return this.topUp(await this.row(runId));
  }

  /**
   * For the projector's own views of a run (its steps, its usage): the run, once the read model
   * has applied every event the log had when asked, waiting for that at most PROJECTED_READ_WAIT_MS.
   * A client that saw the run end reads its steps complete; a stopped projector only makes this
   * answer late and stale, never wrong about the run's status.
   */
  async findProjected(runId: string): Promise<RunView> {
    const row = await this.row(runId);
    const latest = row ? await this.events.latest(runId).catch(() => null) : null;
    const view = this.found(runId, await this.topUp(row, latest));
    if (latest && row!.version < latest.event.seq) await this.projectedUpTo(runId, latest.event.seq);
    return view;
  }

  /**
   * Waits (at most PROJECTED_READ_WAIT_MS) until the read model has applied the run's events up to
   * `seq`; a run without a row counts as applied.
   */
  async projectedUpTo(runId: string, seq: number): Promise<void> {
    const deadline = Date.now() + PROJECTED_READ_WAIT_MS;
    while (((await this.runs.currentVersion(runId)) ?? seq) < seq && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** A page of runs, each active one topped up from the log. */
  async list(filter: RunListFilter): Promise<RunView[]> {
    // A status filter applies to the topped-up runs: rows the projection still shows active are
    // read too, and kept only if their current status is one asked for.
    const requested = filter.statuses?.length ? filter.statuses : filter.active ? [...ACTIVE_STATUSES] : null;
    const query = requested ? { ...filter, active: undefined, statuses: [...new Set([...requested, ...ACTIVE_STATUSES])] } : filter;
    const rows = await this.runs.listRows(callerOrganization(), query);
    const views = await Promise.all(rows.map((row) => this.topUp(row)));
    return views.filter((view): view is RunView => view !== null && (!requested || requested.includes(view.status)));
  }

  private row(runId: string): Promise<RunRow | null> {
    return this.runs.row(callerOrganization(), runId);
  }

  private found(runId: string, view: RunView | null): RunView {
    if (!view) throw new NotFoundException({ detail: `Run with ID ${runId} not found` });
    return view;
  }

  /**
   * The row's view, moved on by the events the projection has not applied yet; null if there is
   * no row or the run was deleted since. `latest` is the run's latest event, when already read.
   */
  private async topUp(row: RunRow | null, latest?: StoredRunEvent | null): Promise<RunView | null> {
    if (!row) return null;
    const runId = row.id;
    const view = toRunView(row);
    if (isTerminalStatus(view.status) || row.last_stream_seq === undefined) return view;
    if (latest === undefined) latest = await this.events.latest(runId).catch(() => null);
    if (!latest || latest.event.seq <= row.version) return view;
    const missing = await this.events.between(runId, Number(row.last_stream_seq) + 1, latest, MAX_TOP_UP_EVENTS);
    const fold = foldRun(missing, foldFromView(view, row.version, row.started_at ?? null));
    if (fold?.deleted) return null;
    return fold?.view ?? view;
  }
}
