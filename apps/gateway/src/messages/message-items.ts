import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { describeValidationErrors } from '../http/validation';
import { ApprovalCreateDto, ApprovalDecisionDto, MessageCreateDto, ToolReturnCreateDto, ToolReturnDto, type MessageItem } from './dto/letta-request.dto';

export interface ParsedItems {
  items: MessageItem[];
  problems: string[];
}

/**
 * Validates `messages` item by item according to its kind, as Letta does: items carrying
 * `approval_request_id`/`approve` or `type: "approval"` are approvals, `type: "tool_return"` is a
 * tool-return batch, everything else a regular message. Only the first item may be an approval.
 */
export function parseMessageItems(raw: unknown[]): ParsedItems {
  const items: MessageItem[] = [];
  const problems: string[] = [];
  raw.forEach((value, index) => {
    const path = `messages.${index}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${path}: must be an object`);
      return;
    }
    const record = value as Record<string, unknown>;
    const kind = record.type ?? ('approval_request_id' in record || 'approve' in record ? 'approval' : 'message');
    if ((kind === 'approval' || kind === 'tool_return') && index > 0) {
      problems.push(`${path}: an approval may only be the first message`);
      return;
    }
    let errors: ValidationError[];
    let item: MessageItem;
    if (kind === 'approval') {
      const approval = plainToInstance(ApprovalCreateDto, record);
      errors = validateSync(approval);
      if (Array.isArray(record.approvals)) {
        approval.approvals = record.approvals.map((entry: unknown) =>
          (entry as { type?: unknown })?.type === 'approval' ? plainToInstance(ApprovalDecisionDto, entry) : plainToInstance(ToolReturnDto, entry),
        );
        approval.approvals.forEach((decision, n) => problems.push(...describeValidationErrors(validateSync(decision), `${path}.approvals.${n}`)));
      } else if (record.approve === undefined || record.approval_request_id === undefined) {
        problems.push(`${path}: an approval needs 'approvals' (or the deprecated 'approve' with 'approval_request_id')`);
      }
      item = approval;
    } else if (kind === 'tool_return') {
      item = plainToInstance(ToolReturnCreateDto, record);
      errors = validateSync(item);
    } else if (kind === 'message') {
      item = plainToInstance(MessageCreateDto, record);
      errors = validateSync(item);
    } else {
      problems.push(`${path}.type: must be one of message, approval, tool_return`);
      return;
    }
    problems.push(...describeValidationErrors(errors, path));
    items.push(item);
  });
  return { items, problems };
}

export function isApproval(item: MessageItem | undefined): item is ApprovalCreateDto | ToolReturnCreateDto {
  return item instanceof ApprovalCreateDto || item instanceof ToolReturnCreateDto;
}
