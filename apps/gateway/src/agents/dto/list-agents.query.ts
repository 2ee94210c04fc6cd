import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString } from 'class-validator';
import { PageQueryDto, toArray, toBoolean } from '../../http/page.query';

export class ListAgentsQueryDto extends PageQueryDto {
  @IsOptional() @IsString() name?: string;
  @IsOptional() @Transform(toArray) @IsString({ each: true }) tags?: string[];
  @IsOptional() @Transform(toBoolean) @IsBoolean() match_all_tags?: boolean;
}
