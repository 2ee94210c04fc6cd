import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString } from 'class-validator';
import { toArray } from '../http/page.query';
import { LIMITS, Name } from '../http/limits';
import { PROVIDER_CATEGORIES, PROVIDER_TYPES, type ModelFilter } from './model-catalog';

/** The official client sends a null query parameter as `key=`: the same as leaving it out. */
const blankIsAbsent = ({ value }: { value: unknown }): unknown => (value === '' ? undefined : value);

/** Letta's ModelListParams. */
export class ListModelsQueryDto {
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsIn(PROVIDER_CATEGORIES, { each: true }) provider_category?: string[];
  @IsOptional() @Transform(blankIsAbsent) @IsString() @Name() provider_name?: string;
  @IsOptional() @Transform(blankIsAbsent) @IsIn(PROVIDER_TYPES) provider_type?: string;

  toFilter(): ModelFilter {
    return { providerName: this.provider_name, providerType: this.provider_type, providerCategories: this.provider_category };
  }
}
