import { LettaOperation } from '../http/api-docs';
import { Controller, Delete, Get, Inject, Param, Query } from '@nestjs/common';
import type { RunView } from '@lrs/contracts';
import { RunQueries } from '@lrs/read-model';
import { RunEventStore } from '@lrs/jetstream';
import { runTimeline, runTraceSpans, type RunTimeline } from '@lrs/domain-run';
import { CancelRunsUseCase } from '../messages/cancel-runs/cancel-runs.use-case';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { RunIdPipe } from '../http/letta-id.pipe';
import { PageQueryDto } from '../http/page.query';
import { ListRunsQueryDto, TraceQueryDto } from './dto/list-runs.query';
import { RunReader } from './run-reader';
import { callerOrganization } from '../auth/caller';

@Controller('v1/runs')
export class RunsController {
  constructor(
    private readonly runs: RunQueries,
    private readonly cancel: CancelRunsUseCase,
    private readonly events: RunEventStore,
    private readonly reader: RunReader,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('list_runs', 'List runs', { arrayOf: 'Run' })
  @Get()
  async list(@Query() query: ListRunsQueryDto) {
    const page = query.toPage({ limit: 100, order: 'desc' });
    const agentIds = [...(query.agent_id ? [query.agent_id] : []), ...(query.agent_ids ?? [])];
    const runs = await this.reader.list({
      ...page,
      order: query.ascending ? 'asc' : page.order,
      agentIds,
      statuses: query.statuses,
      active: query.active,
      background: query.background,
      stopReason: query.stop_reason,
      conversationId: query.conversation_id,
      createdAfter: query.created_after,
      createdBefore: query.created_before,
    });
    if (!query.include_usage) return runs;
    const usage = await this.runs.usageOf(runs.map((run) => run.id));
    return runs.map((run) => ({ ...run, usage: usage.get(run.id) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, step_count: 0 } }));
  }

  @LettaOperation('retrieve_run', 'Retrieve a run', 'Run')
  @Get(':run_id')
  get(@Param('run_id', RunIdPipe) runId: string) {
    return this.find(runId);
  }

  @LettaOperation('list_run_messages', "List a run's messages", { arrayOf: 'LettaMessage' })
  @Get(':run_id/messages')
  async messages(@Param('run_id', RunIdPipe) runId: string, @Query() query: PageQueryDto) {
    return this.runs.messages(await this.find(runId), query.toPage({ limit: 100, order: 'asc' }));
  }

  @LettaOperation('list_run_steps', "List a run's steps", { arrayOf: 'Step' })
  @Get(':run_id/steps')
  async steps(@Param('run_id', RunIdPipe) runId: string, @Query() query: PageQueryDto) {
    return this.runs.steps(await this.reader.findProjected(runId), query.toPage({ limit: 100, order: 'desc' }));
  }

  /** OpenAI's usage shape, summed over the run's steps (Letta drops step_count and cache fields here). */
  @LettaOperation('retrieve_run_usage', 'Token usage of a run', 'Usage')
  @Get(':run_id/usage')
  async usage(@Param('run_id', RunIdPipe) runId: string) {
    const { prompt_tokens, completion_tokens, total_tokens } = await this.runs.usage((await this.reader.findProjected(runId)).id);
    return { completion_tokens, prompt_tokens, total_tokens, prompt_tokens_details: null, completion_tokens_details: null };
  }

  /** Spans of the run rebuilt from its event log (Letta needs ClickHouse for this; the log has every timestamp). */
  @LettaOperation('retrieve_trace_for_run', "A run's trace spans", 'TraceSpans')
  @Get(':run_id/trace')
  async trace(@Param('run_id', RunIdPipe) runId: string, @Query() query: TraceQueryDto) {
    await this.find(runId);
    return runTraceSpans(await this.events.history(runId)).slice(0, query.limit ?? 1000);
  }

  /**
   * What happened to the run, in order (not in Letta's API; the run inspector's timeline): steps with
   * their timings, tool calls and results, approvals, the end, every callback attempt, and the run
   * it queued behind. Rebuilt from the event log, like the trace.
   */
  @LettaOperation('retrieve_run_timeline', "A run's timeline", 'RunTimeline')
  @Get(':run_id/timeline')
  async timeline(@Param('run_id', RunIdPipe) runId: string): Promise<RunTimeline> {
    const run = await this.find(runId);
    const [events, behind] = await Promise.all([this.events.history(runId), this.runs.queuedBehind(callerOrganization(), run)]);
    return { run_id: runId, entries: runTimeline(events, behind) };
  }

  /** Removes the run, its steps and messages from every read (its events stay in the log); an active run is cancelled first. */
  @LettaOperation('delete_run', 'Delete a run', 'Deleted')
  @Delete(':run_id')
  async remove(@Param('run_id', RunIdPipe) runId: string) {
    const run = await this.find(runId);
    if (run.status === 'created' || run.status === 'running') await this.cancel.cancelOne(runId);
    await this.cancel.deleteRun(runId);
    return null;
  }

  private find(runId: string): Promise<RunView> {
    return this.reader.find(runId);
  }
}
