import { buildRunEvent, newId, type RunEvent } from '@lrs/contracts';
import type { HandlerContext, StoredRunEvent } from '@lrs/jetstream';

/** A RunCreated as the gateway appends it, for tests below the HTTP API: no input, default request options. */
export function sampleRunCreated(agentId: string, options: { runId?: string; maxSteps?: number } = {}): RunEvent<'RunCreated'> {
  return buildRunEvent({ runId: options.runId ?? newId('run'), seq: 1, organizationId: 'org-test', agentId, laneId: agentId }, 'RunCreated', {
    conversationId: null,
    background: true,
    createdAt: new Date().toISOString(),
    maxSteps: options.maxSteps ?? 5,
    callbackUrl: null,
    overrideModel: null,
    clientTools: null,
    includeReturnMessageTypes: null,
    metadata: {},
    requestConfig: { use_assistant_message: true, assistant_message_tool_name: 'send_message', assistant_message_tool_kwarg: 'message', include_return_message_types: null },
    input: [],
  });
}

/** The context a consumer hands its handler for a stored event: its first delivery unless overridden. */
export function deliveryOf(stored: StoredRunEvent, overrides: Partial<HandlerContext> = {}): HandlerContext {
  return { streamSeq: stored.streamSeq, deliveryCount: 1, isLastAttempt: false, working: () => undefined, ...overrides };
}
