import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UnprocessableEntityException } from '@nestjs/common';
import { MessageQueries, type MessageSearchHit } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { MessageIdPipe } from '../http/letta-id.pipe';
import { isoInstant } from '../http/page.query';
import { callerOrganization } from '../auth/caller';
import { ListAllMessagesQueryDto, SearchAllMessagesDto } from './messages-api.dto';

/**
 * Letta's `/v1/messages`: the caller organization's messages across agents, one message, and
 * full-text search over them (Postgres, the `search_vector` index). Another organization's
 * message is a 404; its messages are never listed or found.
 */
@Controller('v1/messages')
export class MessagesApiController {
  constructor(private readonly messages: MessageQueries) {}

  @LettaOperation('list_all_messages', "List the organization's messages across agents", { arrayOf: 'LettaMessage' })
  @Get()
  list(@Query() query: ListAllMessagesQueryDto) {
    return this.messages.list(callerOrganization(), {
      ...query.toPage({ limit: 100, order: 'desc' }),
      agentId: query.agent_id,
      conversationId: query.conversation_id,
      messageTypes: query.include_return_message_types,
    });
  }

  /**
   * Full text only: messages have no embeddings here (Letta embeds them only where message
   * embedding is turned on, at a cost per message), so `vector` is refused and `hybrid`, Letta's
   * default, is its full-text half. Results are Letta's list-result shapes, best match first.
   */
  @LettaOperation('search_all_messages', 'Search messages (full text)', { arrayOf: 'MessageSearchResult' })
  @Post('search')
  @HttpCode(200)
  async search(@Body() body: SearchAllMessagesDto) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new UnprocessableEntityException({ detail: 'Invalid request: body must be a JSON object with a query' });
    }
    if (body.search_mode === 'vector') {
      throw new BadRequestException({
        detail: "INVALID_ARGUMENT: search_mode 'vector' is not available: messages have no embeddings on this server. Use 'fts' (or 'hybrid', which here is full-text search only).",
      });
    }
    const hits = await this.messages.search(callerOrganization(), {
      query: body.query,
      agentId: body.agent_id,
      conversationId: body.conversation_id,
      limit: body.limit ?? 50,
      startDate: isoInstant(body.start_date ?? undefined),
      endDate: isoInstant(body.end_date ?? undefined),
    });
    return hits.map(toSearchResult);
  }

  /** Letta answers a list: its stored message may show as several; each of ours is one. */
  @LettaOperation('retrieve_message', 'Retrieve a message', { arrayOf: 'LettaMessage' })
  @Get(':message_id')
  async get(@Param('message_id', MessageIdPipe) messageId: string) {
    const message = await this.messages.find(callerOrganization(), messageId);
    if (!message) throw new NotFoundException({ detail: `Message with id ${messageId} not found.` });
    return [message];
  }
}

/** Letta's SystemMessageListResult, UserMessageListResult, ReasoningMessageListResult, AssistantMessageListResult. */
function toSearchResult({ message, agentId, conversationId }: MessageSearchHit) {
  const common = { message_id: message.id, message_type: message.message_type, agent_id: agentId, conversation_id: conversationId, created_at: message.date };
  if (message.message_type === 'reasoning_message') return { ...common, reasoning: message.reasoning };
  return { ...common, content: 'content' in message ? message.content : '' };
}
