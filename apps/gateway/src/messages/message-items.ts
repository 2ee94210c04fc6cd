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
    if (!isRecord(value)) {
      problems.push(`${path}: must be an object`);
      return;
    }
    const record = value;
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
        const decisions: (ApprovalDecisionDto | ToolReturnDto)[] = [];
        (record.approvals as unknown[]).forEach((entry, n) => {
          if (!isRecord(entry)) {
            problems.push(`${path}.approvals.${n}: must be an object`);
            return;
          }
          const decision = entry.type === 'approval' ? plainToInstance(ApprovalDecisionDto, entry) : plainToInstance(ToolReturnDto, entry);
          problems.push(...describeValidationErrors(validateSync(decision), `${path}.approvals.${n}`));
          decisions.push(decision);
        });
        approval.approvals = decisions;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
