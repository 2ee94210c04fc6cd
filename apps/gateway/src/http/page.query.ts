import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateBy, isISO8601, type ValidationOptions } from 'class-validator';
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

/** The official client sends a null query parameter as `key=`: the same as leaving it out. */
export const blankIsAbsent = ({ value }: { value: unknown }): unknown => (value === '' ? undefined : value);

/** The instant as UTC ISO 8601 text (what the queries are given). */
export const isoInstant = (value: string | undefined): string | undefined => (value === undefined ? undefined : new Date(value).toISOString());

/**
 * An ISO 8601 instant that is also a real date, with an unsigned year, of a year 1 to 9999 in UTC:
 * `-9999-01-01` and `9999-12-31T23:59:59-01:00` are ISO 8601, but the UTC text of neither is a
 * timestamp Postgres takes.
 */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: (value: unknown) => {
          // A signed year is not what JavaScript's Date reads it as (`-9999` becomes 9999).
          if (typeof value !== 'string' || !/^\d{4}/.test(value) || !isISO8601(value, { strict: true })) return false;
          const time = Date.parse(value);
          return time >= FIRST_INSTANT && time <= LAST_INSTANT;
        },
        defaultMessage: (args) => `${args?.property} must be an ISO 8601 date and time, e.g. 2025-01-29T15:01:19-08:00`,
      },
    },
    options,
  );
}

const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
