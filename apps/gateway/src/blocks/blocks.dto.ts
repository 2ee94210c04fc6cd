import { applyDecorators } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { BlockChanges, BlockListFilter } from '@lrs/read-model';
import { MemoryBlockDto } from '../agents/dto/create-agent.dto';
import { UpdateBlockDto } from '../agents/core-memory/core-memory.controller';
import { PageQueryDto, toArray, toBoolean } from '../http/page.query';
import { LIMITS, Name } from '../http/limits';
import { NullMeansUnchanged } from '../http/validation';

/** Letta's block `tags`: as many and as long as an agent's. */
const BlockTags = (): PropertyDecorator =>
  applyDecorators(IsOptional(), IsArray(), ArrayMaxSize(LIMITS.tags), IsString({ each: true }), Name({ each: true }), ArrayUnique());

/**
 * Letta's CreateBlock. Its template, project and deployment fields (`is_template`, `template_name`,
 * `project_id`, `hidden`, ...) are accepted and not kept: this server has none of those.
 */
export class CreateBlockDto extends MemoryBlockDto {
  @BlockTags() tags?: string[] | null;
}

/** Letta's BlockUpdate: only the fields given change; `null` leaves a field that cannot be empty as it is. */
export class ModifyBlockDto extends UpdateBlockDto {
  @NullMeansUnchanged() @BlockTags() tags?: string[];

  override toChanges(): BlockChanges {
    return { ...super.toChanges(), tags: this.tags };
  }
}

/** The most agents a count filter may name (a Postgres integer). */
const MAX_AGENT_COUNT = 2_147_483_647;

const toIntegers = ({ value }: { value: unknown }): unknown => {
  const items = toArray({ value });
  return Array.isArray(items) ? items.map((item) => (typeof item === 'string' && item.trim() !== '' ? Number(item) : item)) : items;
};

/** Letta's BlockListParams. */
export class ListBlocksQueryDto extends PageQueryDto {
  @IsOptional() @IsString() @Name() label?: string;
  @IsOptional() @IsString() @Name() label_search?: string;
  @IsOptional() @IsString() value_search?: string;
  @IsOptional() @IsString() description_search?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) @Name({ each: true }) tags?: string[];
  @IsOptional() @Transform(toBoolean) @IsBoolean() match_all_tags?: boolean;
  @IsOptional() @Transform(toIntegers) @ArrayMaxSize(LIMITS.enumValues) @IsInt({ each: true }) @Min(0, { each: true }) @Max(MAX_AGENT_COUNT, { each: true })
  connected_to_agents_count_eq?: number[];
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_AGENT_COUNT) connected_to_agents_count_gt?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_AGENT_COUNT) connected_to_agents_count_lt?: number;
  /** Letta's template, identity and project filters: no block here is a template or has an identity, project or template name. */
  @IsOptional() @Transform(toBoolean) @IsBoolean() templates_only?: boolean;
  @IsOptional() @IsString() @Name() name?: string;
  @IsOptional() @IsString() @Name() identity_id?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.ids) @IsString({ each: true }) @Name({ each: true }) identifier_keys?: string[];
  @IsOptional() @IsString() @Name() project_id?: string;

  /** Whether a filter asks for what no block here has (a template, an identity, a project or a template name). */
  matchesNothing(): boolean {
    return this.templates_only === true || Boolean(this.name || this.identity_id || this.identifier_keys?.length || this.project_id);
  }

  toFilter(): BlockListFilter {
    return {
      ...this.toPage({ limit: 50, order: 'asc' }),
      label: this.label,
      labelSearch: this.label_search,
      valueSearch: this.value_search,
      descriptionSearch: this.description_search,
      tags: this.tags,
      matchAllTags: this.match_all_tags,
      agentCountIn: this.connected_to_agents_count_eq,
      agentCountAbove: this.connected_to_agents_count_gt,
      agentCountBelow: this.connected_to_agents_count_lt,
    };
  }
}

/** Letta's list_agents_for_block query: paging; `include` is accepted (every relationship is always included). */
export class ListBlockAgentsQueryDto extends PageQueryDto {
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsString({ each: true }) @Name({ each: true }) include?: string[];
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsString({ each: true }) @Name({ each: true }) include_relationships?: string[];
}
