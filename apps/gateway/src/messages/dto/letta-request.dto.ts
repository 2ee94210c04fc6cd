import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MESSAGE_TYPES, type MessageContent, type MessageType } from '@lrs/contracts';
import { MODEL_HANDLE_PATTERN } from '../../agents/dto/create-agent.dto';
import { IsMessageContent } from './content.validator';
import { LIMITS, Name } from '../../http/limits';

export class MessageCreateDto {
  @IsOptional() @IsIn(['message']) type?: 'message';
  @IsIn(['user', 'system', 'assistant']) role: 'user' | 'system' | 'assistant';
  @IsMessageContent() content: MessageContent;
  @IsOptional() @IsString() name?: string | null;
  @IsOptional() @IsString() otid?: string | null;
  @IsOptional() @IsString() sender_id?: string | null;
  @IsOptional() @IsString() group_id?: string | null;
  @IsOptional() @IsString() batch_item_id?: string | null;
}

export class ToolReturnDto {
  @IsOptional() @IsIn(['tool']) type?: 'tool';
  @IsString() @IsNotEmpty() tool_call_id: string;
  @IsMessageContent() tool_return: MessageContent;
  @IsIn(['success', 'error']) status: 'success' | 'error';
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.messages) @IsString({ each: true }) stdout?: string[] | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.messages) @IsString({ each: true }) stderr?: string[] | null;
}

export class ApprovalDecisionDto {
  @IsIn(['approval']) type: 'approval';
  @IsString() @IsNotEmpty() tool_call_id: string;
  @IsBoolean() approve: boolean;
  @IsOptional() @IsString() reason?: string | null;
}

/** `{"type": "approval", "approvals": [...]}`, or Letta's deprecated single-call form. */
export class ApprovalCreateDto {
  @IsOptional() @IsIn(['approval']) type?: 'approval';
  /** Each entry is validated by its `type` in `parseMessageItems`. */
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.messages) approvals?: (ApprovalDecisionDto | ToolReturnDto)[] | null;
  @IsOptional() @IsBoolean() approve?: boolean | null;
  @IsOptional() @IsString() approval_request_id?: string | null;
  @IsOptional() @IsString() reason?: string | null;
  @IsOptional() @IsString() otid?: string | null;
  @IsOptional() @IsString() group_id?: string | null;
}

/** `{"type": "tool_return", "tool_returns": [...]}`: sugar for an approval made of tool results. */
export class ToolReturnCreateDto {
  @IsIn(['tool_return']) type: 'tool_return';
  @IsArray() @ArrayMaxSize(LIMITS.messages) @ValidateNested({ each: true }) @Type(() => ToolReturnDto) tool_returns: ToolReturnDto[];
  @IsOptional() @IsString() otid?: string | null;
}

export type MessageItem = MessageCreateDto | ApprovalCreateDto | ToolReturnCreateDto;

export class ClientToolDto {
  @IsString() @IsNotEmpty() @Matches(/^[a-zA-Z0-9_-]{1,64}$/, { message: 'name must be 1-64 letters, digits, _ or -' }) name: string;
  @IsOptional() @IsString() description?: string | null;
  @IsOptional() @IsObject() parameters?: Record<string, unknown> | null;
}

/** Letta's LettaRequest: the body of every send-message route. */
export class LettaRequestDto {
  /** Items are validated by their `type` (message, approval, tool_return) in `parseMessageItems`. */
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.messages) messages?: unknown[] | null;
  @IsOptional() @IsMessageContent() input?: MessageContent | null;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) max_steps?: number;
  @IsOptional() @IsBoolean() use_assistant_message?: boolean;
  @IsOptional() @IsString() assistant_message_tool_name?: string;
  @IsOptional() @IsString() assistant_message_tool_kwarg?: string;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.enumValues) @IsIn(MESSAGE_TYPES, { each: true }) include_return_message_types?: MessageType[] | null;
  @IsOptional() enable_thinking?: unknown;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tools) @ValidateNested({ each: true }) @Type(() => ClientToolDto) client_tools?: ClientToolDto[] | null;
  @IsOptional() @IsString() @Name() @Matches(MODEL_HANDLE_PATTERN, { message: "override_model must be a model handle '<provider>/<model>'" })
  override_model?: string | null;
  @IsOptional() @IsBoolean() include_compaction_messages?: boolean;
  @IsOptional() @IsBoolean() return_logprobs?: boolean;
  @IsOptional() @IsBoolean() return_token_ids?: boolean;
  /** Not in Letta: deny a pending approval automatically after this many seconds and go on. */
  @IsOptional() @IsInt() @Min(1) @Max(7 * 24 * 3600) approval_timeout_seconds?: number | null;
}

export class LettaAsyncRequestDto extends LettaRequestDto {
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'callback_url must be an absolute http(s) URL' })
  callback_url?: string | null;
}

/** LettaStreamingRequest: the body of POST /v1/agents/{id}/messages. */
export class LettaStreamingRequestDto extends LettaRequestDto {
  @IsOptional() @IsBoolean() streaming?: boolean;
  @IsOptional() @IsBoolean() stream_tokens?: boolean;
  @IsOptional() @IsBoolean() include_pings?: boolean;
  @IsOptional() @IsBoolean() background?: boolean;
}
