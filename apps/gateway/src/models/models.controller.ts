import { Controller, Get, Query } from '@nestjs/common';
import { LettaOperation } from '../http/api-docs';
import { ListModelsQueryDto } from './list-models.query';
import { ListModelsUseCase } from './list-models.use-case';

/** Letta's model lists: the chat and embedding models of the configured providers (README, "Configuration"). */
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ListModelsUseCase) {}

  @LettaOperation('list_models', 'List LLM models', { arrayOf: 'Model' })
  @Get()
  list(@Query() query: ListModelsQueryDto) {
    return this.models.chatModels(query.toFilter());
  }

  @LettaOperation('list_embedding_models', 'List embedding models', { arrayOf: 'EmbeddingModel' })
  @Get('embedding')
  embeddings() {
    return this.models.embeddingModels();
  }
}
