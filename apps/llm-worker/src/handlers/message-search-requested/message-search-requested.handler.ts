import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { MESSAGE_SEARCH_REQUESTS, type MessageSearchReply, type MessageSearchRequest } from '@lrs/jetstream';
import { MessageEmbeddings } from '../../archival/message-embeddings';

/** The gateway's message searches by meaning (POST /v1/messages/search, `vector` and `hybrid`). */
@Controller()
export class MessageSearchRequestedHandler {
  constructor(private readonly embeddings: MessageEmbeddings) {}

  @MessagePattern(MESSAGE_SEARCH_REQUESTS)
  answer(@Payload() request: MessageSearchRequest): Promise<MessageSearchReply> {
    return this.embeddings.search(request);
  }
}
