import { Injectable } from '@nestjs/common';
import type { RunView } from '@lrs/contracts';
import type { LettaAsyncRequestDto } from '../dto/letta-request.dto';
import { RunCreator } from '../run-creator';

/** POST /v1/agents/{agent_id}/messages/async: the Run comes back at once; the work happens in the background. */
@Injectable()
export class SendMessageAsyncUseCase {
  constructor(private readonly runs: RunCreator) {}

  async execute(agentId: string, body: LettaAsyncRequestDto, idempotencyKey: string | null = null): Promise<RunView> {
    const prepared = await this.runs.prepare(agentId, body, { runType: 'send_message_async', background: true, callbackUrl: body.callback_url, idempotencyKey });
    return this.runs.commit(prepared);
  }
}
