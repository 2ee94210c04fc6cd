import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString } from 'class-validator';
import { MESSAGE_TYPES, type MessageType } from '@lrs/contracts';
import { PageQueryDto, toArray } from '../../http/page.query';
import { LIMITS } from '../../http/limits';

export class ListAgentMessagesQueryDto extends PageQueryDto {
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsIn(MESSAGE_TYPES, { each: true }) include_return_message_types?: MessageType[];
  @IsOptional() @IsString() conversation_id?: string;
  @IsOptional() @IsString() group_id?: string;
}
