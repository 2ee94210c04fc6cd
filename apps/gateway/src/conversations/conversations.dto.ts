import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import { MESSAGE_TYPES, idPatternFor, type MessageType } from '@lrs/contracts';
import { LettaStreamingRequestDto } from '../messages/dto/letta-request.dto';
import { PageQueryDto, toArray } from '../http/page.query';
import { LIMITS, Name } from '../http/limits';
import { BlockLabel } from '../agents/dto/create-agent.dto';

const AGENT_ID = new RegExp(idPatternFor('agent'));

export class AgentIdQueryDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
}

export class CreateConversationDto {
  @IsOptional() @IsString() summary?: string | null;
  @IsOptional() @IsArray() @ArrayMaxSize(LIMITS.blocks) @BlockLabel({ each: true }) isolated_block_labels?: string[];
  @IsOptional() @IsString() @Name() model?: string | null;
  @IsOptional() @IsObject() model_settings?: Record<string, unknown> | null;
}

export class UpdateConversationDto {
  @IsOptional() @IsString() summary?: string | null;
}

export class ListConversationsQueryDto extends PageQueryDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @IsString() summary_search?: string;
}

export class ConversationMessagesQueryDto extends PageQueryDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsIn(MESSAGE_TYPES, { each: true }) include_return_message_types?: MessageType[];
}

/** LettaRequest plus `agent_id` (for the `default` conversation); streams unless `streaming: false`. */
export class ConversationMessageDto extends LettaStreamingRequestDto {
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
}

export class ConversationStreamDto {
  @IsOptional() @Matches(new RegExp(idPatternFor('run')), { message: "run_id must match 'run-{uuid4}'" }) run_id?: string;
  @IsOptional() @IsInt() @Min(0) @Max(LIMITS.streamPosition) starting_after?: number;
  @IsOptional() @IsBoolean() include_pings?: boolean;
  @IsOptional() @IsString() otid?: string;
  @IsOptional() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
}
