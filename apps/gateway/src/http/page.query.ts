import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { PageQuery } from '@lrs/read-model';

/** `before`, `after`, `limit`, `order`, `order_by` as every Letta list takes them. */
export class PageQueryDto {
  @IsOptional() @IsString() before?: string;
  @IsOptional() @IsString() after?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @IsOptional() @IsIn(['asc', 'desc']) order?: 'asc' | 'desc';
  @IsOptional() @IsIn(['created_at']) order_by?: string;

  toPage(defaults: { limit: number; order: 'asc' | 'desc' }): PageQuery {
    return {
      before: this.before || null,
      after: this.after || null,
      limit: this.limit ?? defaults.limit,
      order: this.order ?? defaults.order,
    };
  }
}

/** Query strings repeat a key for arrays (`statuses=a&statuses=b`); one occurrence arrives as a string. */
export const toArray = ({ value }: { value: unknown }): unknown =>
  value === undefined || value === '' ? undefined : Array.isArray(value) ? value : [value];

export const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;
