import { buildRunEvent, derivedId, newId, type RunEvent } from '@lrs/contracts';

/**
 * The run that continues an agent whose approval timed out: its input denies every pending call
 * with a reason the model can read, and the agent loop goes on from there. Its id is derived
 * from the paused run, so a redelivered timer cannot start it twice.
 */
export function approvalTimeoutRun(paused: RunEvent<'RunFinished'>, now: Date): RunEvent<'RunCreated'> {
  const timeout = paused.data.approvalTimeout!;
  const runId = derivedId('run', `approval-timeout:${paused.runId}`);
  const reason = `The approval request timed out after ${timeout.seconds} seconds, so the tool call was denied.`;
  const date = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
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
      input: [
        {
          id: newId('message'),
          date,
          name: null,
          otid: null,
          sender_id: null,
          step_id: null,
          is_err: null,
          seq_id: null,
          run_id: runId,
          message_type: 'approval_response_message',
          approvals: timeout.toolCallIds.map((toolCallId) => ({ type: 'approval' as const, tool_call_id: toolCallId, approve: false, reason })),
          approve: false,
          approval_request_id: timeout.toolCallIds[0] ?? null,
          reason,
        },
      ],
    },
  );
}
