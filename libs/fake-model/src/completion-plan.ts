import { createHash } from 'node:crypto';
import type { ChatCompletionRequest, ChatMessage } from './chat-request';
import { parseDirectives, type FakeDirectives } from './directives';

/** Rough OpenAI tokenizer ratio; also the size of each streamed tool-argument fragment. */
export const CHARACTERS_PER_TOKEN = 4;

export interface FakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Reasoning streamed before the answer, in the delta field the directive chose. */
export interface FakeReasoning {
  tokens: string[];
  field: 'reasoning_content' | 'reasoning';
  /** Sent only as an encrypted `reasoning_details` entry, as OpenRouter does for some models. */
  encrypted: boolean;
}

export type CompletionAnswer =
  | { kind: 'text'; text: string; tokens: string[]; finishReason: 'stop' | 'length'; reasoning?: FakeReasoning }
  | { kind: 'tool_calls'; toolCalls: FakeToolCall[]; reasoning?: FakeReasoning };

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export interface CompletionPlan {
  directives: FakeDirectives;
  answer: CompletionAnswer;
  usage: CompletionUsage;
}

const DEFAULT_TOOL_NAME = 'noop';
const DEFAULT_TOOL_ARGUMENTS = '{}';
/** A word with the whitespace before it, or whitespace trailing the text. */
const TOKEN_PATTERN = /\s*\S+|\s+/g;

/** Decides the whole answer up front; the server only chooses when and how to deliver it. */
export function planCompletion(request: ChatCompletionRequest): CompletionPlan {
  const lastUserIndex = lastIndexOfRole(request.messages, 'user');
  const userMessage = lastUserIndex === -1 ? undefined : request.messages[lastUserIndex];
  const { text: userText, directives } = parseDirectives(userMessage?.text ?? '');
  const answer = withReasoning(boundedBy(answerFor(request, lastUserIndex, userText, directives), request.maxTokens), directives);
  return { directives, answer, usage: usageFor(request, answer) };
}

/** A text answer longer than the request's max_tokens is cut there and finishes with `length`, as OpenAI's do. */
function boundedBy(answer: CompletionAnswer, maxTokens: number | undefined): CompletionAnswer {
  if (answer.kind !== 'text' || maxTokens === undefined || answer.tokens.length <= maxTokens) return answer;
  const tokens = answer.tokens.slice(0, maxTokens);
  return { ...answer, text: tokens.join(''), tokens, finishReason: 'length' };
}

function withReasoning(answer: CompletionAnswer, directives: FakeDirectives): CompletionAnswer {
  if (directives.reasoning === undefined) return answer;
  const reasoning: FakeReasoning = {
    tokens: splitIntoTokens(directives.reasoning),
    field: directives.reasoningField ?? 'reasoning_content',
    encrypted: directives.encryptedReasoning,
  };
  return { ...answer, reasoning };
}

/** Splits text so that the pieces concatenate back to exactly the same text. */
export function splitIntoTokens(text: string): string[] {
  return text.match(TOKEN_PATTERN) ?? [];
}

/** Identical requests share a digest: the key for `fail` attempts and the seed of tool-call ids. */
export function messagesDigest(rawMessages: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(rawMessages)).digest('hex');
}

function answerFor(
  request: ChatCompletionRequest,
  lastUserIndex: number,
  userText: string,
  directives: FakeDirectives,
): CompletionAnswer {
  if (directives.toolSteps === undefined) {
    return textAnswer(directives.reply ?? `Echo: ${Array.from({ length: directives.echoTimes ?? 1 }, () => userText.trim()).join(' ')}`, directives);
  }
  const toolStepsTaken = request.messages
    .slice(lastUserIndex + 1)
    .filter((message) => message.role === 'assistant' && message.hasToolCalls).length;
  if (toolStepsTaken < directives.toolSteps) return toolCallAnswer(request, directives);

  const lastToolIndex = lastIndexOfRole(request.messages, 'tool');
  const lastToolResult = lastToolIndex === -1 ? '' : request.messages[lastToolIndex].text;
  return textAnswer(
    directives.reply ?? `Done after ${directives.toolSteps} tool steps: ${lastToolResult}`,
    directives,
  );
}

// Array.prototype.findLastIndex is ES2023, beyond this repo's `lib` setting.
function lastIndexOfRole(messages: ChatMessage[], role: string): number {
  for (let index = messages.length - 1; index >= 0; index--) {
    if (messages[index].role === role) return index;
  }
  return -1;
}

function textAnswer(text: string, directives: FakeDirectives): CompletionAnswer {
  return {
    kind: 'text',
    text,
    tokens: splitIntoTokens(text),
    finishReason: directives.finishWithLength ? 'length' : 'stop',
  };
}

function toolCallAnswer(request: ChatCompletionRequest, directives: FakeDirectives): CompletionAnswer {
  const digest = messagesDigest(request.rawMessages);
  const name = directives.toolName ?? request.firstToolName ?? DEFAULT_TOOL_NAME;
  const args = directives.toolArguments ?? DEFAULT_TOOL_ARGUMENTS;
  const toolCalls = Array.from({ length: directives.parallelToolCalls ?? 1 }, (_, index) => ({
    id: `call_${createHash('sha256').update(`${digest}:${index}`).digest('hex').slice(0, 24)}`,
    name,
    arguments: args,
  }));
  return { kind: 'tool_calls', toolCalls };
}

function usageFor(request: ChatCompletionRequest, answer: CompletionAnswer): CompletionUsage {
  const promptTokens = request.promptTokens;
  const reasoningTokens = answer.reasoning?.tokens.length ?? 0;
  const answerTokens =
    answer.kind === 'text'
      ? answer.tokens.length
      : answer.toolCalls.reduce(
          (sum, toolCall) => sum + 1 + Math.ceil(toolCall.arguments.length / CHARACTERS_PER_TOKEN),
          0,
        );
  const completionTokens = answerTokens + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}
