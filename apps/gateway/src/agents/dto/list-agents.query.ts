import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsBoolean, IsOptional, IsString } from 'class-validator';
import { PageQueryDto, toArray, toBoolean } from '../../http/page.query';
import { LIMITS } from '../../http/limits';

export class ListAgentsQueryDto extends PageQueryDto {
  @IsOptional() @IsString() name?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.tags) @IsString({ each: true }) tags?: string[];
  @IsOptional() @Transform(toBoolean) @IsBoolean() match_all_tags?: boolean;
}
