import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { retryAfterMs } from './retry-after';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { TokenUsage } from '@lrs/contracts';
import { SpanKind, inSpan, type Attributes } from '@lrs/tracing';

export interface ModelClientOptions {
  baseURL: string;
  apiKey: string;
  /** Bound on one model request, from sending it to the last streamed token. */
  timeoutMs: number;
}

export interface ModelToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ModelReply {
  text: string;
  /** The model's reasoning as text (`reasoning_content` or `reasoning` deltas); empty when none. */
  reasoning: string;
  /** Reasoning the provider sent only encrypted or redacted (OpenRouter's `reasoning_details`). */
  hiddenReasoning: string | null;
  toolCalls: ModelToolCall[];
  finishReason: string | null;
  usage: TokenUsage;
  firstTokenAtMs: number | null;
  requestStartedAtMs: number;
}

export interface ModelCall {
  model: string;
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  signal?: AbortSignal;
  /** Upper bound on the reply's tokens (reasoning included), when the agent sets one. */
  maxTokens?: number | null;
  /** `reasoning_effort` for endpoints that take it (OpenAI's reasoning models and their kin). */
  reasoningEffort?: string | null;
  /** Asks endpoints with switchable thinking (vLLM, SGLang chat templates) to think. */
  enableThinking?: boolean;
  /** Called for every streamed chunk: keeps long calls alive and feeds token streaming. */
  onDelta?: (delta: { text?: string; reasoning?: string }) => void;
}

/**
 * What OpenAI-compatible servers add to a streamed delta for reasoning: DeepSeek and vLLM send
 * `reasoning_content`, OpenRouter and others `reasoning` plus `reasoning_details` (whose
 * encrypted entries carry reasoning that must not be shown).
 */
interface ReasoningDelta {
  reasoning_content?: string | null;
  reasoning?: string | null;
  reasoning_details?: { type?: string; text?: string; summary?: string; data?: string }[] | null;
}

/** A model failure with what the agent loop needs to decide: try again, or give up. */
export class ModelCallError extends Error {
  constructor(
    message: string,
    readonly errorType: string,
    readonly retryable: boolean,
    readonly status: number | null,
    /** How long the provider asked us to wait before the next attempt (429 and 503 answers). */
    readonly retryAfterMs: number | null = null,
    /** The model's real context window, when a refusal of a too-long prompt names it. */
    readonly contextWindow: number | null = null,
  ) {
    super(message);
  }
}

export const epochMs = (): number => performance.timeOrigin + performance.now();

/** Chat Completions over the `openai` SDK, always streaming so time-to-first-token is measured. */
export class ModelClient {
  private readonly openai: OpenAI;

  /** Where the model answers, for the spans of its calls. */
  private readonly server: Attributes;

  constructor(options: ModelClientOptions) {
    this.openai = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey, maxRetries: 0, timeout: options.timeoutMs });
    const url = URL.parse(options.baseURL);
    this.server = url ? { 'server.address': url.hostname, 'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80) } : {};
  }

  /** The ids of the models the endpoint lists (`GET /models`), within `timeoutMs`; a failure is a ModelCallError. */
  async listModels(timeoutMs: number): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const model of this.openai.models.list({ timeout: timeoutMs })) ids.push(model.id);
      return ids;
    } catch (error) {
      throw classifyModelError(error);
    }
  }

  /**
   * One model request, in a client span (`gen_ai.*` attributes: the model, the tokens used, the
   * finish reason; the first token as an event), a child of the span of the work that asked for it.
   */
  complete(call: ModelCall): Promise<ModelReply> {
    const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': call.model, ...(call.maxTokens ? { 'gen_ai.request.max_tokens': call.maxTokens } : {}), ...this.server };
    return inSpan(`chat ${call.model}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const reply = await this.stream(call);
        span.setAttributes({
          'gen_ai.usage.input_tokens': reply.usage.prompt_tokens,
          'gen_ai.usage.output_tokens': reply.usage.completion_tokens,
          ...(reply.finishReason ? { 'gen_ai.response.finish_reasons': [reply.finishReason] } : {}),
        });
        if (reply.firstTokenAtMs !== null) span.addEvent('first_token', reply.firstTokenAtMs);
        return reply;
      } catch (error) {
        if (error instanceof ModelCallError) span.setAttribute('error.type', error.errorType);
        throw error;
      }
    });
  }

  private async stream(call: ModelCall): Promise<ModelReply> {
    const requestStartedAtMs = epochMs();
    let firstTokenAtMs: number | null = null;
    let text = '';
    let reasoning = '';
    let hiddenReasoning: string | null = null;
    let finishReason: string | null = null;
    let usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    const toolCalls = new Map<number, ModelToolCall>();
    try {
      const stream = await this.openai.chat.completions.create(
        {
          model: call.model,
          messages: call.messages,
          tools: call.tools?.length ? call.tools : undefined,
          stream: true,
          stream_options: { include_usage: true },
          ...(call.maxTokens ? { max_tokens: call.maxTokens } : {}),
          ...(call.reasoningEffort ? { reasoning_effort: call.reasoningEffort as 'low' } : {}),
          ...(call.enableThinking ? { chat_template_kwargs: { enable_thinking: true } } : {}),
        },
        { signal: call.signal },
      );
      for await (const chunk of stream) {
        if (chunk.usage) {
          usage = {
            prompt_tokens: chunk.usage.prompt_tokens,
            completion_tokens: chunk.usage.completion_tokens,
            total_tokens: chunk.usage.total_tokens,
            ...(chunk.usage.completion_tokens_details?.reasoning_tokens !== undefined
              ? { reasoning_tokens: chunk.usage.completion_tokens_details.reasoning_tokens }
              : {}),
          };
        }
        const choice = chunk.choices[0];
        if (!choice) continue;
        const delta = choice.delta as typeof choice.delta & ReasoningDelta;
        const thought = delta.reasoning_content ?? delta.reasoning ?? '';
        if (firstTokenAtMs === null && (delta.content || delta.tool_calls?.length || thought)) firstTokenAtMs = epochMs();
        if (thought) {
          reasoning += thought;
          call.onDelta?.({ reasoning: thought });
        }
        for (const detail of delta.reasoning_details ?? []) {
          if (detail.type === 'reasoning.encrypted' && detail.data) hiddenReasoning = (hiddenReasoning ?? '') + detail.data;
        }
        if (delta.content) {
          text += delta.content;
          call.onDelta?.({ text: delta.content });
        }
        for (const toolDelta of delta.tool_calls ?? []) {
          const current = toolCalls.get(toolDelta.index) ?? { id: '', name: '', arguments: '' };
          if (toolDelta.id) current.id = toolDelta.id;
          if (toolDelta.function?.name) current.name += toolDelta.function.name;
          if (toolDelta.function?.arguments) current.arguments += toolDelta.function.arguments;
          toolCalls.set(toolDelta.index, current);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (error) {
      throw classifyModelError(error);
    }
    return { text, reasoning, hiddenReasoning, toolCalls: [...toolCalls.values()], finishReason, usage, firstTokenAtMs, requestStartedAtMs };
  }
}

/** The prompt was longer than the model's context window: compacting the thread can help, retrying as is cannot. */
export const CONTEXT_WINDOW_EXCEEDED = 'llm_context_window_exceeded';

/** OpenAI answers `code: context_length_exceeded`; other servers only say so in the message. */
function isContextOverflow(error: APIError): boolean {
  return error.code === 'context_length_exceeded' || /context length|context window|too many tokens|prompt is too long/i.test(error.message);
}

/** OpenAI's refusal says "maximum context length is N tokens"; vLLM's the same. */
function statedContextWindow(message: string): number | null {
  const stated = /maximum context length is (\d+) tokens/i.exec(message);
  return stated ? Number(stated[1]) : null;
}

/** Provider errors as Letta names them (llm_timeout, llm_rate_limit, ...), and whether a retry can help. */
export function classifyModelError(error: unknown): ModelCallError {
  if (error instanceof ModelCallError) return error;
  if (error instanceof APIUserAbortError) return new ModelCallError('model request aborted', 'llm_aborted', false, null);
  if (error instanceof APIConnectionTimeoutError) return new ModelCallError('model request timed out', 'llm_timeout', true, null);
  if (error instanceof APIConnectionError) return new ModelCallError(`model endpoint unreachable: ${error.message}`, 'llm_error', true, null);
  if (error instanceof APIError) {
    const status = error.status ?? null;
    // The SDK's message already starts with the status code when there is one.
    const message = status === null ? `model endpoint error: ${error.message}` : `model endpoint answered ${error.message}`;
    if (status === 429) return new ModelCallError(message, 'llm_rate_limit', true, status, retryAfterMs(error.headers));
    if (status === 401 || status === 403) return new ModelCallError(message, 'llm_authentication', false, status);
    if (status === 402) return new ModelCallError(message, 'llm_insufficient_credits', false, status);
    if (status === 408) return new ModelCallError(message, 'llm_timeout', true, status);
    if (status !== null && status >= 500) return new ModelCallError(message, 'llm_error', true, status, retryAfterMs(error.headers));
    if (status === 400 && isContextOverflow(error)) return new ModelCallError(message, CONTEXT_WINDOW_EXCEEDED, false, status, null, statedContextWindow(error.message));
    return new ModelCallError(message, 'llm_bad_request', false, status);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelCallError(`model stream failed: ${message}`, 'llm_error', true, null);
}

/** Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint. */
export class EmbeddingClient {
  private readonly openai: OpenAI;

  constructor(options: ModelClientOptions) {
    this.openai = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey, maxRetries: 0, timeout: options.timeoutMs });
  }

  /** One vector per text, in order; a failure is a ModelCallError (retryable or not, as for chat). */
  async embed(model: string, texts: readonly string[]): Promise<number[][]> {
    return inSpan(`embeddings ${model}`, { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': model } }, async () => {
      try {
        const response = await this.openai.embeddings.create({ model, input: [...texts], encoding_format: 'float' });
        const vectors = [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
        if (vectors.length !== texts.length || vectors.some((vector) => !Array.isArray(vector) || vector.length === 0 || vector.some((value) => !Number.isFinite(value)))) {
          throw new ModelCallError(`embedding endpoint answered ${vectors.length} usable vectors for ${texts.length} texts`, 'llm_bad_response', true, null);
        }
        return vectors;
      } catch (error) {
        throw classifyModelError(error);
      }
    });
  }
}
