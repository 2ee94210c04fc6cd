import { Body, Controller, Get, NotFoundException, Param, Patch, Query, Res, UnprocessableEntityException } from '@nestjs/common';
import type { Response } from 'express';
import { RunEventStore } from '@lrs/jetstream';
import { StepQueries, toStepMetrics, toStepView, type StepRow } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { StepIdPipe } from '../http/letta-id.pipe';
import { PageQueryDto, isoInstant } from '../http/page.query';
import { callerOrganization } from '../auth/caller';
import { ListStepsQueryDto, StepFeedbackDto } from './dto/steps.dto';

/**
 * Letta's `/v1/steps`: the caller organization's steps as the projector wrote them (the read model),
 * with the feedback users give them. Another organization's step is a 404.
 */
@Controller('v1/steps')
export class StepsController {
  constructor(
    private readonly steps: StepQueries,
    private readonly events: RunEventStore,
  ) {}

  @LettaOperation('list_steps', 'List steps', { arrayOf: 'Step' })
  @Get()
  async list(@Query() query: ListStepsQueryDto) {
    const page = query.toPage({ limit: 50, order: 'desc' });
    // No step of this server belongs to a Letta Cloud project or carries a provider trace id.
    if (query.project_id || query.trace_ids?.length) return [];
    return this.steps.list(callerOrganization(), {
      ...page,
      agentId: query.agent_id,
      runId: query.run_id,
      model: query.model,
      hasFeedback: query.has_feedback,
      feedback: query.feedback,
      tags: query.tags,
      startDate: isoInstant(query.start_date),
      endDate: isoInstant(query.end_date),
    });
  }

  @LettaOperation('retrieve_step', 'Retrieve a step', 'Step')
  @Get(':step_id')
  async get(@Param('step_id', StepIdPipe) stepId: string) {
    return toStepView(await this.find(stepId));
  }

  @LettaOperation('list_messages_for_step', "List a step's messages", { arrayOf: 'LettaMessage' })
  @Get(':step_id/messages')
  async messages(@Param('step_id', StepIdPipe) stepId: string, @Query() query: PageQueryDto) {
    return this.steps.messages(await this.find(stepId), query.toPage({ limit: 100, order: 'asc' }));
  }

  /** Timings from the read model, and the time to first token from the run's log (null once the log has dropped the run). */
  @LettaOperation('retrieve_metrics_for_step', "A step's timings", 'StepMetrics')
  @Get(':step_id/metrics')
  async metrics(@Param('step_id', StepIdPipe) stepId: string) {
    const step = await this.find(stepId);
    const events = step.status === 'success' ? await this.events.history(step.run_id) : [];
    const completed = events.find((event) => event.type === 'StepCompleted' && event.data.stepId === stepId);
    return toStepMetrics(step, completed?.type === 'StepCompleted' ? completed.data.firstTokenAtMs : null);
  }

  /**
   * Letta answers the provider's raw request and response here, or null when it kept none. This
   * server keeps none (a step's outcome is in its run's log, its spans are `GET /v1/runs/{id}/trace`),
   * so an existing step's answer is always null.
   */
  @LettaOperation('retrieve_trace_for_step', "A step's provider trace (always null here)", 'ProviderTrace')
  @Get(':step_id/trace')
  async trace(@Param('step_id', StepIdPipe) stepId: string, @Res() response: Response): Promise<void> {
    await this.find(stepId);
    response.json(null);
  }

  @LettaOperation('modify_feedback_for_step', "Set a step's feedback and tags", 'Step')
  @Patch(':step_id/feedback')
  async feedback(@Param('step_id', StepIdPipe) stepId: string, @Body() body: StepFeedbackDto) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new UnprocessableEntityException({ detail: 'Invalid request: body must be a JSON object with feedback and tags' });
    }
    const step = await this.steps.setFeedback(callerOrganization(), stepId, { feedback: body.feedback ?? null, tags: body.tags ?? undefined });
    if (!step) throw notFound(stepId);
    return step;
  }

  private async find(stepId: string): Promise<StepRow> {
    const row = await this.steps.row(callerOrganization(), stepId);
    if (!row) throw notFound(stepId);
    return row;
  }
}

function notFound(stepId: string): NotFoundException {
  return new NotFoundException({ detail: `Step with ID ${stepId} not found` });
}
