import { countTextTokens as countTokens } from '@lrs/tokens';

/** The parts of a Chat Completions request body the fake acts on, narrowed from parsed JSON. */
export interface ChatMessage {
  role: string;
  /** String content, or the text parts of array content concatenated. */
  text: string;
  hasToolCalls: boolean;
}

export interface ChatCompletionRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  messages: ChatMessage[];
  /** Kept as sent: identical requests are recognised by hashing exactly this. */
  rawMessages: unknown[];
  /** The prompt's tokens as OpenAI counts them (o200k_base, 4 per message, 3 to prime the reply, the tool schemas' JSON). */
  promptTokens: number;
  /** `max_completion_tokens` or `max_tokens`: the reply is cut there, finishing with `length`. */
  maxTokens?: number;
  /** Past this many prompt tokens the request is refused as OpenAI does (400 context_length_exceeded). */
  contextWindow?: number;
  firstToolName?: string;
}

/** A model named `…-ctx<N>` has a context window of N tokens; other names have none enforced. */
const CONTEXT_WINDOW_SUFFIX = /-ctx(\d+)$/;

export type ChatRequestReadResult =
  | { ok: true; request: ChatCompletionRequest }
  | { ok: false; message: string; param: string };

export function readChatCompletionRequest(body: unknown): ChatRequestReadResult {
  if (!isRecord(body)) return invalid('The request body must be a JSON object.', 'body');
  const { model, messages, stream, stream_options: streamOptions, tools } = body;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof model !== 'string' || model === '') return invalid("Missing required parameter: 'model'.", 'model');
  if (!Array.isArray(messages) || messages.length === 0) {
    return invalid("Missing required parameter: 'messages'.", 'messages');
  }

  const chatMessages: ChatMessage[] = [];
  let promptTokens = REPLY_PRIMING_TOKENS + (Array.isArray(tools) && tools.length > 0 ? countTokens(JSON.stringify(tools)) : 0);
  for (let index = 0; index < messages.length; index++) {
    const message: unknown = messages[index];
    if (!isRecord(message) || typeof message.role !== 'string') {
      return invalid(`Invalid value for 'messages[${index}].role'.`, `messages[${index}].role`);
    }
    const text = textOf(message.content);
    const toolCallArguments = toolCallArgumentsOf(message.tool_calls);
    promptTokens += MESSAGE_TOKENS + countTokens(text) + toolCallArguments.reduce((sum, args) => sum + countTokens(args), 0);
    chatMessages.push({ role: message.role, text, hasToolCalls: toolCallArguments.length > 0 });
  }

  return {
    ok: true,
    request: {
      model,
      stream: stream === true,
      includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
      messages: chatMessages,
      rawMessages: messages,
      promptTokens,
      ...(typeof maxTokens === 'number' && maxTokens > 0 ? { maxTokens } : {}),
      ...(CONTEXT_WINDOW_SUFFIX.test(model) ? { contextWindow: Number(CONTEXT_WINDOW_SUFFIX.exec(model)![1]) } : {}),
      firstToolName: firstToolNameOf(tools),
    },
  };
}

const MESSAGE_TOKENS = 4;
const REPLY_PRIMING_TOKENS = 3;

/** Concatenated text of message content given either as a string or as content parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') text += part.text;
  }
  return text;
}

function toolCallArgumentsOf(toolCalls: unknown): string[] {
  if (!Array.isArray(toolCalls)) return [];
  return toolCalls.map((toolCall) => {
    const args = isRecord(toolCall) && isRecord(toolCall.function) ? toolCall.function.arguments : undefined;
    return typeof args === 'string' ? args : '';
  });
}

function firstToolNameOf(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return undefined;
  const [firstTool]: unknown[] = tools;
  if (!isRecord(firstTool) || !isRecord(firstTool.function)) return undefined;
  const { name } = firstTool.function;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function invalid(message: string, param: string): ChatRequestReadResult {
  return { ok: false, message, param };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
