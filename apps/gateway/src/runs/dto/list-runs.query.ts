import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { RUN_STATUSES, STOP_REASONS, idPatternFor, type RunStatus, type StopReason } from '@lrs/contracts';
import { Matches } from 'class-validator';
import { IsInstant, PageQueryDto, toArray, toBoolean } from '../../http/page.query';
import { LIMITS } from '../../http/limits';

const AGENT_ID = new RegExp(idPatternFor('agent'));

export class ListRunsQueryDto extends PageQueryDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.ids) @Matches(AGENT_ID, { each: true, message: "agent_ids must match 'agent-{uuid4}'" }) agent_ids?: string[];
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsIn(RUN_STATUSES, { each: true }) statuses?: RunStatus[];
  @IsOptional() @Transform(toBoolean) @IsBoolean() active?: boolean;
  @IsOptional() @Transform(toBoolean) @IsBoolean() background?: boolean;
  @IsOptional() @IsIn(STOP_REASONS) stop_reason?: StopReason;
  @IsOptional() @IsString() conversation_id?: string;
  /** Runs created at or after this instant (ISO 8601); not in Letta's API, for the run inspector's time filter. */
  @IsOptional() @IsInstant() created_after?: string;
  /** Runs created before this instant (ISO 8601). */
  @IsOptional() @IsInstant() created_before?: string;
  /** Each run also carries `usage` (steps and tokens so far), as the run inspector's list shows them. */
  @IsOptional() @Transform(toBoolean) @IsBoolean() include_usage?: boolean;
  /** Deprecated: true overrides `order` with ascending. */
  @IsOptional() @Transform(toBoolean) @IsBoolean() ascending?: boolean;
}

export class TraceQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000) limit?: number;
}
