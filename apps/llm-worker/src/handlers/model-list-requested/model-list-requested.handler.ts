import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { MODEL_LIST_REQUESTS, type ModelListReply } from '@lrs/jetstream';
import { ProviderModelLists } from '../../models/provider-model-lists';

/** The models every configured provider lists, for the gateway's GET /v1/models. */
@Controller()
export class ModelListRequestedHandler {
  constructor(private readonly lists: ProviderModelLists) {}

  @MessagePattern(MODEL_LIST_REQUESTS)
  async answer(): Promise<ModelListReply> {
    return { ok: true, ...(await this.lists.list()) };
  }
}
