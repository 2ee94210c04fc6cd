import { BadRequestException, Body, Controller, Get, HttpCode, HttpException, Inject, Logger, NotFoundException, Param, Post, Query, UnprocessableEntityException } from '@nestjs/common';
import { MessageSearchRequests, type MessageSearchReply, type MessageSearchRequest } from '@lrs/jetstream';
import { MessageQueries, type MessageSearchHit } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { LettaOperation } from '../http/api-docs';
import { MessageIdPipe } from '../http/letta-id.pipe';
import { isoInstant } from '../http/page.query';
import { callerOrganization } from '../auth/caller';
import { ListAllMessagesQueryDto, SearchAllMessagesDto } from './messages-api.dto';
import { reciprocalRankFusion } from './rank-fusion';

/**
 * Letta's `/v1/messages`: the caller organization's messages across agents, one message, and
 * search over them: full text (Postgres, the `search_vector` index) and, when message embeddings
 * are on (MESSAGE_EMBEDDINGS), by meaning (an llm-worker embeds the query and ranks the
 * organization's message vectors). Another organization's message is a 404; its messages are
 * never listed or found.
 */
@Controller('v1/messages')
export class MessagesApiController {
  private readonly logger = new Logger(MessagesApiController.name);

  constructor(
    private readonly messages: MessageQueries,
    private readonly byMeaning: MessageSearchRequests,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

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
   * `fts`: full text. `vector` (message embeddings on, else a 400): the messages closest in meaning
   * to the query, among those embedded so far. `hybrid`, Letta's default: both rankings fused by
   * reciprocal rank (Letta's), so a message not yet embedded is still found by its words; with
   * embeddings off, or no worker to embed the query, it is full text. Results are Letta's
   * list-result shapes, best first.
   */
  @LettaOperation('search_all_messages', 'Search messages (full text, by meaning, or both)', { arrayOf: 'MessageSearchResult' })
  @Post('search')
  @HttpCode(200)
  async search(@Body() body: SearchAllMessagesDto) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new UnprocessableEntityException({ detail: 'Invalid request: body must be a JSON object with a query' });
    }
    const mode = body.search_mode ?? 'hybrid';
    if (mode === 'vector' && !this.settings.messageEmbeddings) {
      throw new BadRequestException({
        detail: "INVALID_ARGUMENT: search_mode 'vector' is not available: messages have no embeddings on this server (MESSAGE_EMBEDDINGS=true turns them on). Use 'fts' (or 'hybrid', which then is full-text search only).",
      });
    }
    const organizationId = callerOrganization();
    const limit = body.limit ?? 50;
    const filter = {
      agentId: body.agent_id ?? null,
      conversationId: body.conversation_id ?? null,
      startDate: isoInstant(body.start_date ?? undefined) ?? null,
      endDate: isoInstant(body.end_date ?? undefined) ?? null,
    };
    const request: MessageSearchRequest = { organizationId, query: body.query, limit, ...filter };
    if (mode === 'vector') {
      const reply = await this.byMeaning.request(request, this.settings.archivalTimeoutMs);
      if (!reply.ok) throw new HttpException({ detail: reply.detail }, reply.status);
      return (await this.messages.hitsByIds(organizationId, reply.messageIds)).map(toSearchResult);
    }
    const [fullText, reply] = await Promise.all([
      this.messages.search(organizationId, { query: body.query, limit, ...filter }),
      mode === 'hybrid' && this.settings.messageEmbeddings ? this.byMeaning.request(request, this.settings.archivalTimeoutMs) : null,
    ]);
    if (!reply) return fullText.map(toSearchResult);
    if (!reply.ok) {
      this.logger.warn(`message search: by meaning unavailable (${reply.status}: ${reply.detail}); answering full text`);
      return fullText.map(toSearchResult);
    }
    return (await this.fuse(organizationId, fullText, reply, limit)).map(toSearchResult);
  }

  /** Letta answers a list: its stored message may show as several; each of ours is one. */
  @LettaOperation('retrieve_message', 'Retrieve a message', { arrayOf: 'LettaMessage' })
  @Get(':message_id')
  async get(@Param('message_id', MessageIdPipe) messageId: string) {
    const message = await this.messages.find(callerOrganization(), messageId);
    if (!message) throw new NotFoundException({ detail: `Message with id ${messageId} not found.` });
    return [message];
  }

  /** Both rankings fused; the messages only the search by meaning found are read here. */
  private async fuse(organizationId: string, fullText: MessageSearchHit[], byMeaning: Extract<MessageSearchReply, { ok: true }>, limit: number): Promise<MessageSearchHit[]> {
    const fused = reciprocalRankFusion([fullText.map((hit) => hit.message.id), byMeaning.messageIds], limit);
    const known = new Map(fullText.map((hit) => [hit.message.id, hit]));
    const others = await this.messages.hitsByIds(organizationId, fused.map((hit) => hit.id).filter((id) => !known.has(id)));
    for (const hit of others) known.set(hit.message.id, hit);
    return fused.flatMap(({ id }) => known.get(id) ?? []);
  }
}

/** Letta's SystemMessageListResult, UserMessageListResult, ReasoningMessageListResult, AssistantMessageListResult. */
function toSearchResult({ message, agentId, conversationId }: MessageSearchHit) {
  const common = { message_id: message.id, message_type: message.message_type, agent_id: agentId, conversation_id: conversationId, created_at: message.date };
  if (message.message_type === 'reasoning_message') return { ...common, reasoning: message.reasoning };
  return { ...common, content: 'content' in message ? message.content : '' };
}
