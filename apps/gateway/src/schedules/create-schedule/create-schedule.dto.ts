import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsUrl, Max, Min, ValidateIf } from 'class-validator';
import { MESSAGE_TYPES, type MessageType } from '@lrs/contracts';
import { LIMITS } from '../../http/limits';

/**
 * `client.agents.schedule.create`: the messages to send, when, and the async route's options.
 * `messages` items are validated as the send routes' messages (`parseMessageItems`); `schedule`
 * by `parseSchedule` (a union the client types: one-time or recurring).
 */
export class CreateScheduleDto {
  @IsArray() @ArrayMinSize(1, { message: 'messages must not be empty' }) @ArrayMaxSize(LIMITS.messages) messages: unknown[];
  @IsObject() schedule: Record<string, unknown>;
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false }, { message: 'callback_url must be an absolute http(s) URL' })
  callback_url?: string | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.enumValues) @IsIn(MESSAGE_TYPES, { each: true }) include_return_message_types?: MessageType[] | null;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) max_steps?: number;
}
