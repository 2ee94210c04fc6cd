import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { LIMITS, Name } from '../http/limits';
import { NullMeansUnchanged } from '../http/validation';
import { IsInstant, toArray, toBoolean } from '../http/page.query';

/** A passage's text, tags and time, as every insert route takes them. */
export class PassageDto {
  @IsString() @IsNotEmpty() @MaxLength(LIMITS.passageChars) text!: string;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[] | null;
  @IsOptional() @IsInstant() created_at?: string | null;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
}

export class PassageBatchDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(LIMITS.passagesPerBatch) @ValidateNested({ each: true }) @Type(() => PassageDto) passages!: PassageDto[];
}

/** `GET /v1/agents/{id}/archival-memory`: Letta's cursors (passage ids), `ascending`, and a text filter. */
export class ListPassagesQuery {
  @IsOptional() @IsString() before?: string;
  @IsOptional() @IsString() after?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @Transform(toBoolean) @IsIn([true, false]) ascending?: boolean;
  @IsOptional() @IsString() @MaxLength(LIMITS.passageChars) search?: string;
}

/** Filters every archival search takes: tags (any/all) and a time range. */
class SearchFilterFields {
  @IsOptional() @IsIn(['any', 'all']) tag_match_mode?: 'any' | 'all';
}

/** `GET /v1/agents/{id}/archival-memory/search`. */
export class AgentSearchQuery extends SearchFilterFields {
  @IsString() @IsNotEmpty() @MaxLength(LIMITS.passageChars) query!: string;
  @IsOptional() @Transform(toArray) @IsArray() @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[];
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(LIMITS.searchResults) top_k?: number;
  @IsOptional() @IsInstant() start_datetime?: string;
  @IsOptional() @IsInstant() end_datetime?: string;
}

/** `POST /v1/passages/search`: by agent or archive, tags, dates; without a query, the newest passages. */
export class PassageSearchDto extends SearchFilterFields {
  @IsOptional() @IsString() @Name() agent_id?: string | null;
  @IsOptional() @IsString() @Name() archive_id?: string | null;
  @IsOptional() @IsString() @MaxLength(LIMITS.passageChars) query?: string | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[] | null;
  @IsOptional() @IsInt() @Min(1) @Max(LIMITS.searchResults) limit?: number;
  @IsOptional() @IsInstant() start_date?: string | null;
  @IsOptional() @IsInstant() end_date?: string | null;
}

export class CreateArchiveDto {
  @IsString() @IsNotEmpty() @Name() name!: string;
  @IsOptional() @IsString() @MaxLength(LIMITS.passageChars) description?: string | null;
  /** The embedding model handle of its passages (`openai/text-embedding-3-small`). */
  @IsOptional() @IsString() @Name() embedding?: string | null;
  @IsOptional() @IsObject() embedding_config?: { handle?: unknown; embedding_model?: unknown } | null;
  @IsOptional() @IsObject() metadata?: Record<string, unknown> | null;
}

export class UpdateArchiveDto {
  @NullMeansUnchanged() @IsOptional() @IsString() @IsNotEmpty() @Name() name?: string;
  @IsOptional() @IsString() @MaxLength(LIMITS.passageChars) description?: string | null;
}

export class ListArchivesQuery {
  @IsOptional() @IsString() before?: string;
  @IsOptional() @IsString() after?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
  @IsOptional() @IsString() @Name() agent_id?: string;
  @IsOptional() @IsString() @Name() name?: string;
}
