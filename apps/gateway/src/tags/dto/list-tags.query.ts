import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { TagListFilter } from '@lrs/read-model';
import { Name } from '../../http/limits';

/** Letta's TagListParams: tags are their own cursors, sorted by name. */
export class ListTagsQueryDto {
  @IsOptional() @IsString() @Name() before?: string;
  @IsOptional() @IsString() @Name() after?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
  @IsOptional() @IsIn(['name']) order_by?: string;
  @IsOptional() @IsString() @Name() name?: string;
  /** Deprecated in Letta for `name`, which wins when both are given. */
  @IsOptional() @IsString() @Name() query_text?: string;

  toFilter(): TagListFilter {
    return {
      before: this.before || null,
      after: this.after || null,
      limit: this.limit ?? 50,
      order: this.order ?? 'asc',
      name: this.name || this.query_text || undefined,
    };
  }
}
