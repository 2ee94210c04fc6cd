import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { RunView } from '@lrs/contracts';
import { evolveRun, foldFromView, isTerminalStatus, type RunFold } from '@lrs/domain-run';
import { RunEventStore } from '@lrs/jetstream';
import { RunQueries, toRunView } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';

/** Events read past the row at most; a run further behind than this shows as projected. */
const MAX_TOP_UP_EVENTS = 64;

/**
 * A run as the client should see it: the read model's row, topped up from the event log when the
 * row shows the run active and the log has moved on (the projector lags or is stopped). A client
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
    const row = await this.runs.row(this.settings.organizationId, runId);
    if (!row) throw new NotFoundException({ detail: `Run with ID ${runId} not found` });
    const view = toRunView(row);
    if (isTerminalStatus(view.status) || row.last_stream_seq === undefined) return view;
    const latest = await this.events.latest(runId).catch(() => null);
    if (!latest || latest.event.seq <= row.version) return view;
    let fold: RunFold | null = foldFromView(view, row.version, row.started_at ?? null);
    let cursor = Number(row.last_stream_seq) + 1;
    for (let read = 0; read < MAX_TOP_UP_EVENTS && fold && fold.version < latest.event.seq; read++) {
      const next = await this.events.nextOf(runId, cursor);
      if (!next) break;
      fold = evolveRun(fold, next.event);
      cursor = next.streamSeq + 1;
    }
    if (fold?.deleted) throw new NotFoundException({ detail: `Run with ID ${runId} not found` });
    return fold?.view ?? view;
  }
}
