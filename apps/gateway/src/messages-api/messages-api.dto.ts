import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { MESSAGE_TYPES, idPatternFor, type MessageType } from '@lrs/contracts';
import { MESSAGE_SEARCH_MAX_QUERY_CHARS } from '@lrs/read-model';
import { IsInstant, PageQueryDto, blankIsAbsent, toArray } from '../http/page.query';
import { LIMITS } from '../http/limits';

const AGENT_ID = new RegExp(idPatternFor('agent'));
/** A conversation, or `default`: the agents' own threads. */
const CONVERSATION_ID = new RegExp(`${idPatternFor('conv')}|^default$`);
const CONVERSATION_ID_MESSAGE = "conversation_id must match 'conv-{uuid4}' or be 'default'";

export const SEARCH_MODES = ['fts', 'vector', 'hybrid'] as const;

/** `GET /v1/messages`: Letta's MessageListParams, plus `agent_id`. */
export class ListAllMessagesQueryDto extends PageQueryDto {
  /** Not in Letta's list: one agent's messages. */
  @IsOptional() @Transform(blankIsAbsent) @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string;
  @IsOptional() @Transform(blankIsAbsent) @Matches(CONVERSATION_ID, { message: CONVERSATION_ID_MESSAGE }) conversation_id?: string;
  @IsOptional() @Transform(toArray) @ArrayMaxSize(LIMITS.enumValues) @IsIn(MESSAGE_TYPES, { each: true }) include_return_message_types?: MessageType[];
}

/** `POST /v1/messages/search`: Letta's MessageSearchParams. Null is the same as absent, as in Letta. */
export class SearchAllMessagesDto {
  @IsString() @MaxLength(MESSAGE_SEARCH_MAX_QUERY_CHARS) query!: string;
  @IsOptional() @IsIn(SEARCH_MODES) search_mode?: (typeof SEARCH_MODES)[number] | null;
  @IsOptional() @IsString() @Matches(AGENT_ID, { message: "agent_id must match 'agent-{uuid4}'" }) agent_id?: string | null;
  @IsOptional() @IsString() @Matches(CONVERSATION_ID, { message: CONVERSATION_ID_MESSAGE }) conversation_id?: string | null;
  /** Default 50, as Letta's. */
  @IsOptional() @IsInt() @Min(1) @Max(1_000) limit?: number | null;
  @IsOptional() @IsInstant() start_date?: string | null;
  @IsOptional() @IsInstant() end_date?: string | null;
}
