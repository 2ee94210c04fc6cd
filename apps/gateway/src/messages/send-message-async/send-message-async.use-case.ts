import { Inject, Injectable, Logger, NotFoundException, ServiceUnavailableException, UnprocessableEntityException } from '@nestjs/common';
import { buildRunEvent, newId, type RunEvent, type RunView } from '@lrs/contracts';
import { LaneStore, RunEventStore } from '@lrs/jetstream';
import { enqueue } from '@lrs/domain-run';
import { AgentStore, RunProjection, runViewFromCreated } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../../config/env';
import type { LettaAsyncRequestDto } from '../dto/letta-request.dto';
import { inputProblem, renderInputMessages } from '../input-messages';
import { parseMessageItems } from '../message-items';
import { checkApprovalRules } from '../approval-rules';

export const DEFAULT_MAX_STEPS = 50;

/**
 * POST /v1/agents/{agent_id}/messages/async. The run exists once RunCreated is acknowledged by
 * JetStream; only then does the client get its 200. The gateway applies that first event to the
 * read model itself so an immediate GET finds the run; the projector's copy is then a no-op.
 */
@Injectable()
export class SendMessageAsyncUseCase {
  private readonly logger = new Logger(SendMessageAsyncUseCase.name);

  constructor(
    private readonly agents: AgentStore,
    private readonly events: RunEventStore,
    private readonly lanes: LaneStore,
    private readonly projection: RunProjection,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async execute(agentId: string, body: LettaAsyncRequestDto): Promise<RunView> {
    const problem = inputProblem(body);
    if (problem) throw new UnprocessableEntityException({ detail: problem });
    const { items, problems } = body.messages ? parseMessageItems(body.messages) : { items: null, problems: [] };
    if (problems.length) throw new UnprocessableEntityException({ detail: `Invalid request: ${problems.join('; ')}` });
    const organizationId = this.settings.organizationId;
    if (!(await this.agents.exists(organizationId, agentId))) throw new NotFoundException({ detail: 'Agent not found' });
    const pending = await this.agents.pendingApproval(agentId);
    checkApprovalRules(items, pending);

    const runId = newId('run');
    const now = new Date();
    const event: RunEvent<'RunCreated'> = buildRunEvent(
      { runId, seq: 1, organizationId, agentId, laneId: agentId },
      'RunCreated',
      {
        conversationId: null,
        background: true,
        createdAt: now.toISOString(),
        maxSteps: body.max_steps ?? DEFAULT_MAX_STEPS,
        callbackUrl: body.callback_url ?? null,
        overrideModel: body.override_model ?? null,
        clientTools: body.client_tools ?? null,
        includeReturnMessageTypes: body.include_return_message_types ?? null,
        metadata: { run_type: 'send_message_async', lettuce: false },
        requestConfig: {
          use_assistant_message: body.use_assistant_message ?? true,
          assistant_message_tool_name: body.assistant_message_tool_name ?? 'send_message',
          assistant_message_tool_kwarg: body.assistant_message_tool_kwarg ?? 'message',
          include_return_message_types: body.include_return_message_types ?? null,
        },
        input: renderInputMessages({ messages: items, input: body.input }, { runId, now, pending }),
      },
      now.toISOString(),
    );

    let streamSeq: number;
    try {
      streamSeq = await this.events.create(event);
    } catch (error) {
      this.logger.error(`could not append RunCreated for ${runId}: ${String(error)}`);
      // Nothing was stored, so the client's automatic retry of the same body is safe.
      throw new ServiceUnavailableException({ detail: 'The event log is unavailable; the run was not created. Retry shortly.' });
    }
    await Promise.all([this.joinLane(event, streamSeq), this.projectRightAway(event, streamSeq)]);
    return runViewFromCreated(event);
  }

  /**
   * Queue the run before answering, so a message sent after this response is answered always
   * runs after this one. If this fails, the orchestrator queues the run from RunCreated instead.
   */
  private async joinLane(event: RunEvent<'RunCreated'>, streamSeq: number): Promise<void> {
    try {
      await this.lanes.update(event.laneId, (lane) => enqueue(lane, { runId: event.runId, createdSeq: streamSeq }));
    } catch (error) {
      this.logger.warn(`could not queue ${event.runId} on its lane, the orchestrator will: ${String(error)}`);
    }
  }

  private async projectRightAway(event: RunEvent<'RunCreated'>, streamSeq: number): Promise<void> {
    try {
      await this.projection.apply([{ event, streamSeq }]);
    } catch (error) {
      // The run is durable in the log; the projector will still record it.
      this.logger.warn(`write-through projection of ${event.runId} failed, projector will apply it: ${String(error)}`);
    }
  }
}
