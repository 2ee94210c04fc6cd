import type { LettaMessage, LettaUsageStatistics, RunCallbackPayload, RunView } from '@lrs/contracts';
import { isoUtc } from '@lrs/domain-run';

/** Letta's callback body: the run's id, status and metadata, with the result folded into metadata. */
export function buildCallbackPayload(run: RunView, messages: LettaMessage[], usage: LettaUsageStatistics, now: Date): RunCallbackPayload {
  return {
    run_id: run.id,
    status: run.status,
    completed_at: isoUtc(now) as string,
    metadata: {
      ...run.metadata,
      result: {
        messages,
        stop_reason: { message_type: 'stop_reason', stop_reason: run.stop_reason ?? 'end_turn' },
        usage,
        logprobs: null,
        turns: null,
      },
    },
  };
}
