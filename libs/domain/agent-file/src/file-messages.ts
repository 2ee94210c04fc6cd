import { messageEnvelope, type ContentPart, type LettaMessage, type MessageContent, type ToolCall } from '@lrs/contracts';

/** A content part of Letta's internal message format. */
export type FilePart =
  | { type: 'text'; text: string; signature?: string | null }
  | { type: 'image'; source: Record<string, unknown> }
  | { type: string; [key: string]: unknown };

export interface FileToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface FileToolReturn {
  tool_call_id: string | null;
  status: 'success' | 'error';
  stdout: string[] | null;
  stderr: string[] | null;
  func_response: string | null;
}

/** A message as an agent file stores it: Letta's internal Message, not the API's LettaMessage. */
export interface FileMessage {
  type: 'message';
  id: string;
  role: 'system' | 'user' | 'assistant' | 'tool' | 'approval' | 'summary' | 'function';
  content: FilePart[];
  name: string | null;
  otid: string | null;
  sender_id: string | null;
  batch_item_id: string | null;
  group_id: string | null;
  model: string | null;
  agent_id: string;
  tool_calls: FileToolCall[] | null;
  tool_call_id: string | null;
  tool_returns: FileToolReturn[];
  created_at: string;
  approve: boolean | null;
  approval_request_id: string | null;
  denial_reason: string | null;
  approvals: unknown[];
}

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const isString = (value: unknown): value is string => typeof value === 'string';
export const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
/** Absent (undefined or null), or as `ok` wants it. */
export const isOptional = (value: unknown, ok: (value: unknown) => boolean): boolean => value === undefined || value === null || ok(value);

function listProblem(value: unknown, field: string, itemProblem: (item: unknown) => string | null): string | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) return `${field}: must be a list`;
  for (const [index, item] of value.entries()) {
    const problem = itemProblem(item);
    if (problem) return `${field}.${index}: ${problem}`;
  }
  return null;
}

function partProblem(part: unknown): string | null {
  if (!isRecord(part)) return 'must be an object';
  if (part.type === 'text' && !isString(part.text)) return 'text must be a string';
  if (part.type === 'image' && !isRecord(part.source)) return 'source must be an object';
  return null;
}

function toolCallProblem(call: unknown): string | null {
  if (!isRecord(call) || !isString(call.id)) return 'must be an object with a string id';
  const fn = call.function;
  return isRecord(fn) && isString(fn.name) && isString(fn.arguments) ? null : 'function must have a string name and arguments';
}

function toolReturnProblem(result: unknown): string | null {
  if (!isRecord(result)) return 'must be an object';
  if (!isOptional(result.tool_call_id, isString) || !isOptional(result.func_response, isString)) return 'tool_call_id and func_response must be strings';
  if (!isOptional(result.stdout, isStringList) || !isOptional(result.stderr, isStringList)) return 'stdout and stderr must be lists of strings';
  return null;
}

/** What is wrong with the shape of a file message, as far as the import reads it (`field: problem`), or null. */
export function fileMessageProblem(message: unknown): string | null {
  if (!isRecord(message)) return 'must be an object';
  for (const field of ['id', 'role'] as const) if (!isString(message[field])) return `${field}: must be a string`;
  for (const field of ['tool_call_id', 'otid', 'created_at'] as const) if (!isOptional(message[field], isString)) return `${field}: must be a string`;
  return (
    listProblem(message.content, 'content', partProblem) ??
    listProblem(message.tool_calls, 'tool_calls', toolCallProblem) ??
    listProblem(message.tool_returns, 'tool_returns', toolReturnProblem)
  );
}

export type MessageDraft = Omit<FileMessage, 'id' | 'agent_id'>;

function draft(role: FileMessage['role'], createdAt: string, fields: Partial<MessageDraft>): MessageDraft {
  return {
    type: 'message',
    role,
    content: [],
    name: null,
    otid: null,
    sender_id: null,
    batch_item_id: null,
    group_id: null,
    model: null,
    tool_calls: null,
    tool_call_id: null,
    tool_returns: [],
    created_at: createdAt,
    approve: null,
    approval_request_id: null,
    denial_reason: null,
    approvals: [],
    ...fields,
  };
}

const textPart = (text: string): FilePart => ({ type: 'text', text, signature: null });

function partsOf(content: MessageContent): FilePart[] {
  if (typeof content === 'string') return [textPart(content)];
  return content.map((part) => (part.type === 'text' ? textPart(part.text) : { type: 'image', source: { ...part.source } }));
}

const toFileCall = (call: ToolCall): FileToolCall => ({ id: call.tool_call_id, type: 'function', function: { name: call.name, arguments: call.arguments } });

/**
 * One API message as the file's messages: tool calls become an assistant message with OpenAI-style
 * `tool_calls`, each tool result a `tool` message of its own. Reasoning and approval decisions
 * have no place of their own in a model's context, so they are not exported.
 */
export function toFileMessages(message: LettaMessage, createdAt: string): MessageDraft[] {
  const otid = message.otid;
  switch (message.message_type) {
    case 'system_message':
      return [draft('system', createdAt, { content: [textPart(message.content)], otid })];
    case 'user_message':
      return [draft('user', createdAt, { content: partsOf(message.content), otid })];
    case 'assistant_message':
      return [draft('assistant', createdAt, { content: partsOf(message.content), otid })];
    case 'tool_call_message':
    case 'approval_request_message':
      return [draft('assistant', createdAt, { tool_calls: message.tool_calls.map(toFileCall), otid })];
    case 'tool_return_message':
      return message.tool_returns.map((result) =>
        draft('tool', createdAt, {
          content: [textPart(result.tool_return)],
          tool_call_id: result.tool_call_id,
          tool_returns: [{ tool_call_id: result.tool_call_id, status: result.status, stdout: result.stdout, stderr: result.stderr, func_response: result.tool_return }],
          otid,
        }),
      );
    default:
      return [];
  }
}

function textOf(parts: FilePart[]): string {
  return parts.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

function contentOf(parts: FilePart[]): MessageContent {
  const images = parts.filter((part) => part.type === 'image');
  if (images.length === 0) return textOf(parts);
  return parts
    .filter((part) => part.type === 'text' || part.type === 'image')
    .map((part): ContentPart => (part.type === 'text' ? { type: 'text', text: String(part.text ?? '') } : ({ type: 'image', source: (part as { source: unknown }).source } as ContentPart)));
}

export interface ApiMessageShell {
  id: string;
  otid: string;
  date: string;
}

/**
 * One file message as API messages for this server's history (the system message is left out: this
 * server compiles its own). `shell` gives each produced message its fresh id, otid and date
 * (from the file message it comes from).
 */
export function fromFileMessage(message: FileMessage, shell: (source: FileMessage) => ApiMessageShell): LettaMessage[] {
  const base = () => messageEnvelope({ runId: null, ...shell(message) });
  switch (message.role) {
    case 'user':
    case 'summary':
      return [{ ...base(), message_type: 'user_message', content: contentOf(message.content ?? []) }];
    case 'assistant': {
      const produced: LettaMessage[] = [];
      const text = textOf(message.content ?? []);
      if (text.length > 0) produced.push({ ...base(), message_type: 'assistant_message', content: text });
      const calls = (message.tool_calls ?? []).map((call): ToolCall => ({ name: call.function.name, arguments: call.function.arguments, tool_call_id: call.id }));
      if (calls.length > 0) produced.push({ ...base(), message_type: 'tool_call_message', tool_call: calls[0], tool_calls: calls });
      return produced;
    }
    case 'tool': {
      const recorded = message.tool_returns?.[0];
      const toolCallId = message.tool_call_id ?? recorded?.tool_call_id;
      if (!toolCallId) return [];
      const output = recorded?.func_response ?? textOf(message.content ?? []);
      const status = recorded?.status === 'error' ? 'error' : 'success';
      const stdout = recorded?.stdout ?? null;
      const stderr = recorded?.stderr ?? null;
      return [
        {
          ...base(),
          message_type: 'tool_return_message',
          tool_return: output,
          status,
          tool_call_id: toolCallId,
          stdout,
          stderr,
          tool_returns: [{ type: 'tool', tool_call_id: toolCallId, tool_return: output, status, stdout, stderr }],
        },
      ];
    }
    default:
      return [];
  }
}
