import { CHARACTERS_PER_TOKEN, type CompletionAnswer, type CompletionPlan, type FakeReasoning } from './completion-plan';

/** Fields every object of one completion shares, streamed or not. */
export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const SYSTEM_FINGERPRINT = 'fp_fake';
const STREAM_END = 'data: [DONE]\n\n';

export function errorBody(message: string, type: string, param: string | null = null, code: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    default:
      return status >= 500 ? 'server_error' : 'invalid_request_error';
  }
}

export function chatCompletionBody(identity: CompletionIdentity, plan: CompletionPlan): object {
  const { answer } = plan;
  const reasoning = answer.reasoning ? reasoningDelta(answer.reasoning, answer.reasoning.tokens.join('')) : {};
  const message =
    answer.kind === 'text'
      ? { role: 'assistant', content: answer.text, refusal: null, ...reasoning }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          ...reasoning,
          tool_calls: answer.toolCalls.map((toolCall) => ({
            id: toolCall.id,
            type: 'function',
            function: { name: toolCall.name, arguments: toolCall.arguments },
          })),
        };
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOf(answer) }],
    usage: plan.usage,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/**
 * The SSE stream as frames: the server waits `tokenDelayMs` before every frame but the first.
 * The finish chunk, usage chunk and `[DONE]` ride on the last frame because the real API sends
 * them together right after the final token.
 */
export function chatCompletionStreamFrames(
  identity: CompletionIdentity,
  plan: CompletionPlan,
  includeUsage: boolean,
): string[] {
  // With include_usage the real API puts `usage: null` on every chunk before the usage chunk.
  const chunk = (delta: object, finishReason: string | null): string =>
    sseEvent({
      id: identity.id,
      object: 'chat.completion.chunk',
      created: identity.created,
      model: identity.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });

  const { answer } = plan;
  const frames: string[] = [];
  if (answer.reasoning?.encrypted) frames.push(chunk({ role: 'assistant', content: null, ...reasoningDelta(answer.reasoning, '') }, null));
  else for (const token of answer.reasoning?.tokens ?? []) frames.push(chunk({ role: 'assistant', content: null, ...reasoningDelta(answer.reasoning!, token) }, null));
  if (answer.kind === 'text') {
    frames.push(chunk({ role: 'assistant', content: '' }, null));
    for (const token of answer.tokens) frames.push(chunk({ content: token }, null));
  } else {
    frames.push(chunk({ role: 'assistant', content: null }, null));
    answer.toolCalls.forEach((toolCall, index) => {
      const opening = { index, id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: '' } };
      frames.push(chunk({ tool_calls: [opening] }, null));
      for (const fragment of argumentFragments(toolCall.arguments)) {
        frames.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }, null));
      }
    });
  }

  let tail = chunk({}, finishReasonOf(answer));
  if (includeUsage) {
    tail += sseEvent({
      id: identity.id,
      object: 'chat.completion.chunk',
      created: identity.created,
      model: identity.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [],
      usage: plan.usage,
    });
  }
  frames[frames.length - 1] += tail + STREAM_END;
  return frames;
}

/** A reasoning piece in its field; encrypted reasoning is one opaque `reasoning_details` entry instead. */
function reasoningDelta(reasoning: FakeReasoning, text: string): object {
  if (reasoning.encrypted) {
    const data = Buffer.from(reasoning.tokens.join('')).toString('base64');
    return { reasoning_details: [{ type: 'reasoning.encrypted', data, format: 'fake-v1', index: 0 }] };
  }
  return { [reasoning.field]: text };
}

function finishReasonOf(answer: CompletionAnswer): string {
  return answer.kind === 'text' ? answer.finishReason : 'tool_calls';
}

function argumentFragments(args: string): string[] {
  const fragments: string[] = [];
  for (let start = 0; start < args.length; start += CHARACTERS_PER_TOKEN) {
    fragments.push(args.slice(start, start + CHARACTERS_PER_TOKEN));
  }
  return fragments;
}

function sseEvent(payload: object): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}
