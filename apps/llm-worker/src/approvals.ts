import type { ApprovalRequestMessage, ApprovalResponseMessage, LettaMessage, ToolCall } from '@lrs/contracts';

/** Tool calls a run paused on that no later message has answered (the agent's pending approval). */
export function pendingApprovalRequest(history: LettaMessage[]): ApprovalRequestMessage | null {
  for (let index = history.length - 1; index >= 0; index--) {
    const message = history[index];
    if (message.message_type === 'approval_response_message' || message.message_type === 'tool_return_message') return null;
    if (message.message_type === 'approval_request_message') return message;
  }
  return null;
}

/** The run's approval response, when the run was started to answer a pending approval. */
export function approvalResponseOf(history: LettaMessage[], runId: string): ApprovalResponseMessage | null {
  const own = history.filter((message) => message.run_id === runId);
  const first = own[0];
  return first?.message_type === 'approval_response_message' ? first : null;
}

export type Resolution =
  | { kind: 'returned'; call: ToolCall; status: 'success' | 'error'; output: string }
  | { kind: 'approved'; call: ToolCall }
  | { kind: 'denied'; call: ToolCall; reason: string | null };

/** What to do with each pending call, in the order the model made them. */
export function resolveApprovals(request: ApprovalRequestMessage, response: ApprovalResponseMessage): Resolution[] {
  return request.tool_calls.map((call): Resolution => {
    const decision = response.approvals.find((approval) => approval.tool_call_id === call.tool_call_id);
    if (!decision) return { kind: 'denied', call, reason: 'no decision was given for this call' };
    if (decision.type === 'tool') return { kind: 'returned', call, status: decision.status, output: decision.tool_return };
    return decision.approve ? { kind: 'approved', call } : { kind: 'denied', call, reason: decision.reason };
  });
}

export function denialText(reason: string | null): string {
  return `Error: request to call tool denied. User reason: ${reason ?? 'none given'}`;
}
