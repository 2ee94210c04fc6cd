import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import { idPatternFor } from '@lrs/contracts';
import { LIMITS, Name } from '../http/limits';
import { COMPACTION_MODES, type CompactionMode } from '@lrs/domain-run';
import { toBoolean } from '../http/page.query';

const AGENT_ID = new RegExp(idPatternFor('agent'));
const MESSAGE_ID = new RegExp(idPatternFor('message'));

export class RecompileQueryDto {
  @IsOptional() @Transform(toBoolean) @IsBoolean() dry_run?: boolean;
  @IsOptional() @Transform(toBoolean) @IsBoolean() update_timestamp?: boolean;
}

export class ResetMessagesDto {
  /** letta_v1_agent has no default initial messages, so either value leaves the thread empty. */
  @IsOptional() @IsBoolean() add_default_initial_messages?: boolean;
}

export class ForkConversationQueryDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @Transform(toBoolean) @IsBoolean() hidden?: boolean;
  @IsOptional() @Matches(MESSAGE_ID, { message: "message_id must match 'message-{uuid4}'" }) message_id?: string;
}


export class CompactionSettingsDto {
  @IsOptional() @IsIn(COMPACTION_MODES) mode?: CompactionMode;
  @IsOptional() @IsString() @Name() model?: string | null;
  @IsOptional() @IsObject() model_settings?: Record<string, unknown> | null;
  @IsOptional() @IsString() prompt?: string | null;
  @IsOptional() @IsBoolean() prompt_acknowledgement?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(LIMITS.clipChars) clip_chars?: number | null;
  @IsOptional() @IsNumber() @Min(0) @Max(1) sliding_window_percentage?: number;
}

export class CompactDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @ValidateNested() @Type(() => CompactionSettingsDto) compaction_settings?: CompactionSettingsDto | null;
}

export class RecompileConversationDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @IsObject() compaction_settings?: Record<string, unknown> | null;
}
