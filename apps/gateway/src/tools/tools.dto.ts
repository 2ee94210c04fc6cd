import { applyDecorators } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import type { ToolListFilter } from '@lrs/read-model';
import { PageQueryDto, toArray, toBoolean } from '../http/page.query';
import { LIMITS, Name } from '../http/limits';

/** A tool's source: large enough for any real tool, small enough to hold in every step's catalog. */
export const MAX_TOOL_SOURCE_CHARS = 200_000;
/** The most a tool may return to the model (Letta's default is 50,000). */
export const MAX_RETURN_CHAR_LIMIT = 1_000_000;
/** `json` is how older Letta tools (and agent files) mark Python source whose schema was given as JSON. */
export const TOOL_SOURCE_TYPES = ['python', 'typescript', 'json'] as const;

/** Letta's PipRequirement / NpmRequirement. */
export class PackageRequirementDto {
  @IsString() @Name() @Matches(/^[A-Za-z0-9@._/-]+$/, { message: 'name must be a package name' }) name: string;
  @IsOptional() @IsString() @Name() version?: string | null;
}

const Requirements = (): PropertyDecorator =>
  applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(LIMITS.enumValues), ValidateNested({ each: true }), Type(() => PackageRequirementDto));

const ToolTags = (): PropertyDecorator => applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(LIMITS.tags), IsString({ each: true }), Name({ each: true }));

/** Fields a tool has whether created or changed; `null` means "not given", as Letta's clients send it. */
class ToolFieldsDto {
  @IsOptional() @IsString() @MaxLength(MAX_TOOL_SOURCE_CHARS) description?: string | null;
  @IsOptional() @IsObject() json_schema?: Record<string, unknown> | null;
  @IsOptional() @IsObject() args_json_schema?: Record<string, unknown> | null;
  @ToolTags() tags?: string[] | null;
  @IsOptional() @IsInt() @Min(1) @Max(MAX_RETURN_CHAR_LIMIT) return_char_limit?: number | null;
  @IsOptional() @IsBoolean() default_requires_approval?: boolean | null;
  @IsOptional() @IsBoolean() enable_parallel_execution?: boolean | null;
  @Requirements() pip_requirements?: PackageRequirementDto[] | null;
  @Requirements() npm_requirements?: PackageRequirementDto[] | null;
  @IsOptional() @IsObject() metadata_?: Record<string, unknown> | null;
}

/** Letta's ToolCreate. */
export class CreateToolDto extends ToolFieldsDto {
  @IsString() @MaxLength(MAX_TOOL_SOURCE_CHARS) source_code: string;
  @IsOptional() @IsIn(TOOL_SOURCE_TYPES) source_type?: (typeof TOOL_SOURCE_TYPES)[number];
}

/** Letta's ToolUpdate: only the fields given change. */
export class UpdateToolDto extends ToolFieldsDto {
  @IsOptional() @IsString() @MaxLength(MAX_TOOL_SOURCE_CHARS) source_code?: string | null;
  @IsOptional() @IsIn(TOOL_SOURCE_TYPES) source_type?: (typeof TOOL_SOURCE_TYPES)[number] | null;
}

const NameList = (): PropertyDecorator => applyDecorators(IsOptional(), Transform(toArray), ArrayMaxSize(LIMITS.ids), IsString({ each: true }), Name({ each: true }));

/** Letta's ToolListParams. */
export class ListToolsQueryDto extends PageQueryDto {
  @IsOptional() @IsString() @Name() name?: string;
  @NameList() names?: string[];
  @NameList() tool_ids?: string[];
  @IsOptional() @IsString() @Name() search?: string;
  @NameList() tool_types?: string[];
  @NameList() exclude_tool_types?: string[];
  @IsOptional() @Transform(toBoolean) @IsBoolean() return_only_letta_tools?: boolean;

  toFilter(): ToolListFilter {
    // Comma-separated values are accepted as repeated ones, as Letta's list takes them.
    const split = (values?: string[]) => values?.flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
    return {
      ...this.toPage({ limit: 50, order: 'desc' }),
      name: this.name,
      names: split(this.names),
      ids: split(this.tool_ids),
      search: this.search,
      toolTypes: split(this.tool_types),
      excludeToolTypes: [...(split(this.exclude_tool_types) ?? []), ...(this.return_only_letta_tools ? ['custom', 'external_mcp'] : [])],
    };
  }
}

/** Letta's ToolSearchRequest. Search is by words in names, descriptions and tags (`fts`); `vector` and `hybrid` search the same way. */
export class SearchToolsDto {
  @IsOptional() @IsString() @Name() query?: string | null;
  @IsOptional() @IsIn(['vector', 'fts', 'hybrid']) search_mode?: string;
  @ToolTags() tags?: string[] | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.enumValues) @IsString({ each: true }) @Name({ each: true }) tool_types?: string[] | null;
  @IsOptional() @IsInt() @Min(1) @Max(LIMITS.searchResults) limit?: number;
}
