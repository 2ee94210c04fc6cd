import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';
import { idPatternFor } from '@lrs/contracts';
import { toBoolean } from '../../http/page.query';

const CONVERSATION_ID = new RegExp(`^default$|${idPatternFor('conv')}`);

export class ExportAgentQueryDto {
  @IsOptional() @Matches(CONVERSATION_ID, { message: "conversation_id must be 'conv-{uuid4}' or 'default'" }) conversation_id?: string;
  @IsOptional() @Transform(toBoolean) @IsBoolean() scrub_messages?: boolean;
  /** Deprecated by Letta; the legacy v1 format is not written (400). */
  @IsOptional() @Transform(toBoolean) @IsBoolean() use_legacy_format?: boolean;
  /** Deprecated by Letta and ignored. */
  @IsOptional() @IsString() max_steps?: string;
}

/** The multipart form fields of POST /v1/agents/import besides `file` (all arrive as strings). */
export class ImportAgentFormDto {
  @IsOptional() @IsString() name?: string;
  /** Deprecated alias of `name`. */
  @IsOptional() @IsString() override_name?: string;
  @IsOptional() @IsString() model?: string;
  /** Deprecated alias of `model`. */
  @IsOptional() @IsString() override_model_handle?: string;
  @IsOptional() @IsString() embedding?: string;
  @IsOptional() @Transform(toBoolean) @IsBoolean() strip_messages?: boolean;
  @IsOptional() @Transform(toBoolean) @IsBoolean() append_copy_suffix?: boolean;
  @IsOptional() @Transform(toBoolean) @IsBoolean() override_existing_tools?: boolean;
  @IsOptional() @IsString() secrets?: string;
  @IsOptional() @IsString() env_vars_json?: string;
  @IsOptional() @IsString() project_id?: string;
}
