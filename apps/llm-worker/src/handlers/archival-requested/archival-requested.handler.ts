import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ARCHIVAL_REQUESTS, type ArchivalReply, type ArchivalRequest } from '@lrs/jetstream';
import { ArchivalMemory } from '../../archival/archival-memory';

/**
 * Archival memory for the gateway's routes: embeds and stores passages, or searches by meaning.
 * A passage is stored only once its vector is back; a reply that never arrives leaves what was
 * stored (an insert commits before it answers), which the client sees by listing.
 */
@Controller()
export class ArchivalRequestedHandler {
  constructor(private readonly archival: ArchivalMemory) {}

  @MessagePattern(ARCHIVAL_REQUESTS)
  answer(@Payload() request: ArchivalRequest): Promise<ArchivalReply> {
    return this.archival.answer(request);
  }
}
