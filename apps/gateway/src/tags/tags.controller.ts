import { Controller, Get, Query } from '@nestjs/common';
import { TagQueries } from '@lrs/read-model';
import { LettaOperation } from '../http/api-docs';
import { callerOrganization } from '../auth/caller';
import { ListTagsQueryDto } from './dto/list-tags.query';

/** Letta's `/v1/tags`: the distinct tags of the caller organization's agents (this server's blocks have none). */
@Controller('v1/tags')
export class TagsController {
  constructor(private readonly tags: TagQueries) {}

  @LettaOperation('list_tags', 'List tags', { arrayOf: 'Tag' })
  @Get()
  list(@Query() query: ListTagsQueryDto): Promise<string[]> {
    return this.tags.list(callerOrganization(), query.toFilter());
  }
}
