import { buildRunEvent, derivedId, type RunEvent } from '@lrs/contracts';
import { denyAll } from './approval-denial';

/**
 * The run that continues an agent whose approval timed out: its input denies every pending call
 * with a reason the model can read, and the agent loop goes on from there. Its id is derived
 * from the paused run, so a redelivered timer cannot start it twice.
 */
export function approvalTimeoutRun(paused: RunEvent<'RunFinished'>, now: Date): RunEvent<'RunCreated'> {
  const timeout = paused.data.approvalTimeout!;
  const runId = derivedId('run', `approval-timeout:${paused.runId}`);
  const reason = `The approval request timed out after ${timeout.seconds} seconds, so the tool call was denied.`;
  return buildRunEvent(
    { runId, seq: 1, organizationId: paused.organizationId, agentId: paused.agentId, laneId: paused.laneId },
    'RunCreated',
    {
      // A lane is the run's conversation when it has one, else its agent.
      conversationId: paused.laneId === paused.agentId ? null : paused.laneId,
      background: true,
      createdAt: now.toISOString(),
      maxSteps: 50,
      callbackUrl: null,
      overrideModel: null,
      clientTools: null,
      includeReturnMessageTypes: null,
      metadata: { run_type: 'approval_timeout', lettuce: false, timed_out_run_id: paused.runId },
      requestConfig: {
        use_assistant_message: true,
        assistant_message_tool_name: 'send_message',
        assistant_message_tool_kwarg: 'message',
        include_return_message_types: null,
      },
      input: [denyAll(runId, timeout.toolCallIds, reason, now)],
    },
  );
}
