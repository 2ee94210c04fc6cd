import { messageDate, messageEnvelope, type ApprovalResponseMessage } from '@lrs/contracts';

/**
 * The approval response that denies every pending call with one reason: what a cancelled pause
 * and an approval timeout put in front of the agent, so it is no longer waiting.
 */
export function denyAll(runId: string, toolCallIds: string[], reason: string, now: Date): ApprovalResponseMessage {
  return {
    ...messageEnvelope({ runId, date: messageDate(now) }),
    message_type: 'approval_response_message',
    approvals: toolCallIds.map((toolCallId) => ({ type: 'approval', tool_call_id: toolCallId, approve: false, reason })),
    approve: false,
    approval_request_id: toolCallIds[0] ?? null,
    reason,
  };
}
