import { randomUUID } from 'node:crypto';
import {
  messageDate,
  messageEnvelope,
  type ApprovalDecision,
  type ApprovalRequestMessage,
  type ContentPart,
  type LettaMessage,
  type MessageContent,
  type ToolReturn,
} from '@lrs/contracts';
import { ApprovalCreateDto, ApprovalDecisionDto, ToolReturnCreateDto, ToolReturnDto, type MessageCreateDto, type MessageItem } from './dto/letta-request.dto';

/** Problems with the messages/input pair that field validation cannot see (Letta's model validator). */
export function inputProblem(body: { messages?: unknown[] | null; input?: unknown }): string | null {
  const hasMessages = body.messages !== undefined && body.messages !== null;
  const hasInput = body.input !== undefined && body.input !== null;
  if (hasMessages && hasInput) return "Cannot specify both 'input' and 'messages'. Use 'input' for a single user message or 'messages' for several.";
  if (!hasMessages && !hasInput) return "Must specify either 'input' or 'messages'.";
  if (hasMessages && body.messages!.length === 0) return 'Messages must not be empty';
  return null;
}

/** A single text part is shown as plain text, as Letta renders stored user content. */
function collapse(content: MessageContent): MessageContent {
  if (typeof content !== 'string' && content.length === 1 && content[0].type === 'text') return content[0].text;
  return content;
}

function plainText(content: MessageContent): string {
  return typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The request's messages as the Letta messages stored for the run, with ids, otids and dates. */
export function renderInputMessages(
  body: { messages?: MessageItem[] | null; input?: MessageContent | null },
  context: { runId: string; now: Date; pending?: ApprovalRequestMessage | null },
): LettaMessage[] {
  const requested: MessageItem[] = body.messages ?? [{ role: 'user', content: body.input as MessageContent }];
  const date = messageDate(context.now);
  return requested.map((item): LettaMessage => {
    if (item instanceof ApprovalCreateDto || item instanceof ToolReturnCreateDto) {
      const approvals = approvalEntries(item, context.pending ?? null);
      const first = approvals[0];
      return {
        ...messageEnvelope({ runId: context.runId, date, otid: item.otid ?? randomUUID() }),
        message_type: 'approval_response_message',
        approvals,
        approve: first?.type === 'approval' ? first.approve : null,
        approval_request_id: first?.tool_call_id ?? null,
        reason: first?.type === 'approval' ? first.reason : null,
      };
    }
    const message = item as MessageCreateDto;
    const common = messageEnvelope({ runId: context.runId, date, otid: message.otid ?? randomUUID(), name: message.name, senderId: message.sender_id });
    const content = normalizeParts(message.content);
    switch (message.role) {
      case 'system':
        return { ...common, message_type: 'system_message', content: plainText(content) };
      case 'assistant':
        return { ...common, message_type: 'assistant_message', content: plainText(content) };
      default:
        return { ...common, message_type: 'user_message', content: collapse(content) };
    }
  });
}

/** Parts may omit `type` on the wire; stored parts always carry it. */
function normalizeParts(content: MessageContent): MessageContent {
  if (typeof content === 'string') return content;
  return content.map((part) => {
    const raw = part as Partial<ContentPart> & { text?: string; source?: unknown };
    return (raw.type ? raw : raw.text !== undefined ? { type: 'text', text: raw.text } : { type: 'image', source: raw.source }) as ContentPart;
  });
}

/**
 * Approvals in their stored form. The deprecated `{approve, approval_request_id}` form names one
 * call; Letta also accepts the approval request's message id there when one call is pending.
 */
export function approvalEntries(item: ApprovalCreateDto | ToolReturnCreateDto, pending: ApprovalRequestMessage | null): (ApprovalDecision | ToolReturn)[] {
  if (item instanceof ToolReturnCreateDto) return item.tool_returns.map(toToolReturn);
  if (item.approvals) {
    return item.approvals.map((entry): ApprovalDecision | ToolReturn =>
      entry instanceof ApprovalDecisionDto
        ? { type: 'approval', tool_call_id: entry.tool_call_id, approve: entry.approve, reason: entry.reason ?? null }
        : toToolReturn(entry),
    );
  }
  const requestId = item.approval_request_id as string;
  const callId = pending && pending.id === requestId && pending.tool_calls.length === 1 ? pending.tool_calls[0].tool_call_id : requestId;
  return [{ type: 'approval', tool_call_id: callId, approve: Boolean(item.approve), reason: item.reason ?? null }];
}

function toToolReturn(entry: ToolReturnDto): ToolReturn {
  return {
    type: 'tool',
    tool_call_id: entry.tool_call_id,
    tool_return: plainText(entry.tool_return),
    status: entry.status,
    stdout: entry.stdout ?? null,
    stderr: entry.stderr ?? null,
  };
}
