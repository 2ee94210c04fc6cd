import { LettaOperation } from '../http/api-docs';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConversationStore, MessageQueries, RunQueries } from '@lrs/read-model';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../config/env';
import { SendMessageUseCase } from '../messages/send-message/send-message.use-case';
import { CancelRunsUseCase } from '../messages/cancel-runs/cancel-runs.use-case';
import { RunStreamer } from '../streams/run-streamer';
import { RunReader } from '../runs/run-reader';
import { ThreadResolver } from '../threads/thread-resolver';
import { ThreadContextUseCase } from '../threads/thread-context.use-case';
import { CompactDto, ForkConversationQueryDto, RecompileConversationDto, RecompileQueryDto } from '../threads/thread-context.dto';
import { ConversationIdPipe } from './conversation-id.pipe';
import { IdempotencyKey } from '../http/idempotency-key';
import {
  AgentIdQueryDto,
  ConversationMessageDto,
  ConversationMessagesQueryDto,
  ConversationStreamDto,
  CreateConversationDto,
  ListConversationsQueryDto,
  UpdateConversationDto,
} from './conversations.dto';
import { callerOrganization } from '../auth/caller';
import { requireAllowedModel } from '../auth/allowed-models';

/**
 * Conversations: independent threads of one agent. Each is a lane of its own (one run at a time
 * within it, different conversations of an agent in parallel) with its own history; `default`
 * with an agent_id names the agent's own thread.
 */
@Controller('v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationStore,
    private readonly messages: MessageQueries,
    private readonly runs: RunQueries,
    private readonly reader: RunReader,
    private readonly sync: SendMessageUseCase,
    private readonly cancel: CancelRunsUseCase,
    private readonly streamer: RunStreamer,
    private readonly threads: ThreadResolver,
    private readonly contexts: ThreadContextUseCase,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @LettaOperation('create_conversation', 'Create a conversation', 'Conversation')
  @Post()
  @HttpCode(200)
  async create(@Query() query: AgentIdQueryDto, @Body() body: CreateConversationDto) {
    if (!query.agent_id) throw new UnprocessableEntityException({ detail: 'agent_id: query parameter is required' });
    await this.threads.ofAgent(query.agent_id);
    requireAllowedModel(this.settings.allowedModels, body.model, 'model');
    return this.conversations.create(callerOrganization(), query.agent_id, {
      summary: body.summary,
      model: body.model,
      isolatedBlockLabels: body.isolated_block_labels,
    });
  }

  @LettaOperation('list_conversations', 'List conversations', { arrayOf: 'Conversation' })
  @Get()
  list(@Query() query: ListConversationsQueryDto) {
    return this.conversations.list(callerOrganization(), query.agent_id, query.toPage({ limit: 50, order: 'desc' }));
  }

  @LettaOperation('retrieve_conversation', 'Retrieve a conversation', 'Conversation')
  @Get(':conversation_id')
  async get(@Param('conversation_id', ConversationIdPipe) id: string) {
    return this.threads.conversation(id);
  }

  @LettaOperation('update_conversation', 'Update a conversation', 'Conversation')
  @Patch(':conversation_id')
  async update(@Param('conversation_id', ConversationIdPipe) id: string, @Body() body: UpdateConversationDto) {
    await this.threads.conversation(id);
    return this.conversations.update(callerOrganization(), id, { summary: body.summary });
  }

  @LettaOperation('delete_conversation', 'Delete a conversation', 'Deleted')
  @Delete(':conversation_id')
  async remove(@Param('conversation_id', ConversationIdPipe) id: string) {
    await this.threads.conversation(id);
    await this.conversations.delete(callerOrganization(), id);
    return null;
  }

  /** Sends a message into the conversation; streams unless `streaming` is false. */
  @LettaOperation('send_conversation_message', 'Send a message into a conversation (streams by default)', 'stream')
  @Post(':conversation_id/messages')
  async send(
    @Param('conversation_id', ConversationIdPipe) id: string,
    @Body() body: ConversationMessageDto,
    @IdempotencyKey() idempotencyKey: string | null,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const { agentId, conversationId } = await this.threads.ofConversationPath(id, body.agent_id);
    if (body.streaming === false) {
      response.status(200).setHeader('x-should-retry', 'false');
      response.json(await this.sync.execute(agentId, body, conversationId, idempotencyKey));
      return;
    }
    await this.streamer.startAndStream(
      agentId,
      body,
      { runType: 'send_conversation_message', background: body.background ?? false, conversationId, idempotencyKey },
      request,
      response,
    );
  }

  @LettaOperation('list_conversation_messages', "List a conversation's messages", { arrayOf: 'LettaMessage' })
  @Get(':conversation_id/messages')
  async history(@Param('conversation_id', ConversationIdPipe) id: string, @Query() query: ConversationMessagesQueryDto) {
    const { agentId, conversationId } = await this.threads.ofConversationPath(id, query.agent_id);
    return this.messages.history(agentId, query.toPage({ limit: 100, order: 'desc' }), query.include_return_message_types, { conversationId });
  }

  /** Resumes a run's stream: the given run, else the conversation's newest active one. */
  @LettaOperation('retrieve_conversation_stream', "Resume a conversation run's stream", 'stream')
  @Post(':conversation_id/stream')
  async stream(
    @Param('conversation_id', ConversationIdPipe) id: string,
    @Body() body: ConversationStreamDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    const { agentId, conversationId } = await this.threads.ofConversationPath(id, body.agent_id);
    const run = body.run_id
      ? await this.runs.get(callerOrganization(), body.run_id)
      : (
          await this.reader.list({
            agentIds: [agentId],
            active: true,
            limit: 1,
            order: 'desc',
            ...(conversationId ? { conversationId } : { defaultThreadOnly: true }),
          })
        )[0];
    if (body.run_id && (!run || run.conversation_id !== conversationId)) {
      throw new NotFoundException({ detail: `Run with ID ${body.run_id} not found in this conversation` });
    }
    if (!run) throw new BadRequestException({ detail: 'No active runs found for this conversation.' });
    await this.streamer.stream(run.id, request, response, {
      startingAfter: body.starting_after ?? 0,
      includePings: body.include_pings ?? true,
      include: run.request_config.include_return_message_types,
    });
  }

  /** A new conversation of the same agent starting from this one's in-context messages (up to message_id). */
  @LettaOperation('fork_conversation', 'Fork a conversation', 'Conversation')
  @Post(':conversation_id/fork')
  @HttpCode(200)
  async fork(@Param('conversation_id', ConversationIdPipe) id: string, @Query() query: ForkConversationQueryDto) {
    return this.contexts.fork(await this.threads.ofConversationPath(id, query.agent_id), { uptoMessageId: query.message_id, hidden: query.hidden });
  }

  @LettaOperation('recompile_conversation', "Recompile a conversation's system prompt", 'CompiledSystemPrompt')
  @Post(':conversation_id/recompile')
  @HttpCode(200)
  @Header('content-type', 'application/json')
  async recompile(@Param('conversation_id', ConversationIdPipe) id: string, @Query() _query: RecompileQueryDto, @Body() body: RecompileConversationDto) {
    return JSON.stringify(await this.contexts.compiledSystemPrompt(await this.threads.ofConversationPath(id, body.agent_id)));
  }

  @LettaOperation('compact_conversation', "Compact a conversation's messages into a summary", 'CompactionResponse')
  @Post(':conversation_id/compact')
  @HttpCode(200)
  async compact(@Param('conversation_id', ConversationIdPipe) id: string, @Body() body: CompactDto) {
    return this.contexts.compact(await this.threads.ofConversationPath(id, body.agent_id), body.compaction_settings);
  }

  @LettaOperation('cancel_conversation', "Cancel a conversation's active runs", 'CancelResult')
  @Post(':conversation_id/cancel')
  @HttpCode(200)
  async cancelRuns(@Param('conversation_id', ConversationIdPipe) id: string, @Query() query: AgentIdQueryDto) {
    const { agentId, conversationId } = await this.threads.ofConversationPath(id, query.agent_id);
    return this.cancel.cancelForConversation(agentId, conversationId);
  }
}
