import { BadRequestException, ConflictException } from '@nestjs/common';
import type { ApprovalRequestMessage } from '@lrs/contracts';
import { approvalEntries } from './input-messages';
import { isApproval } from './message-items';
import type { MessageItem } from './dto/letta-request.dto';

/**
 * While an agent waits for approval only an approval naming exactly the pending calls may be
 * sent; an approval when nothing waits is a mistake. Checked before a run is created, on every
 * route, so a wrong request leaves nothing behind.
 */
export function checkApprovalRules(items: MessageItem[] | null, pending: ApprovalRequestMessage | null): void {
  const first = items?.[0];
  if (isApproval(first)) {
    if (!pending) {
      throw new BadRequestException({
        detail:
          'Cannot process approval response: No tool call is currently awaiting approval. Please send a regular message to interact with the agent.',
      });
    }
    const expected = pending.tool_calls.map((call) => call.tool_call_id).sort();
    const received = approvalEntries(first, pending).map((entry) => entry.tool_call_id).sort();
    if (expected.length !== received.length || expected.some((id, index) => id !== received[index])) {
      throw new BadRequestException({ detail: `Invalid tool call IDs. Expected '${JSON.stringify(expected)}', but received '${JSON.stringify(received)}'.` });
    }
    return;
  }
  if (pending) {
    throw new ConflictException({
      detail: {
        code: 'PENDING_APPROVAL',
        message:
          'CONFLICT: Cannot send a new message: The agent is waiting for approval on a tool call. Please approve or deny the pending request before continuing.',
        pending_request_id: pending.id,
      },
    });
  }
}
