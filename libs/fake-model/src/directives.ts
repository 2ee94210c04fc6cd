/**
 * Test scenarios are written into the prompt itself as `[fake:NAME=VALUE]` tokens, so any caller
 * that can send a user message (the Letta API, the bench, an e2e test) can steer the fake model
 * without a side channel.
 */
export interface FakeDirectives {
  reply?: string;
  /** The echo answer says the user's text this many times: a long-winded model. */
  echoTimes?: number;
  delayMs?: number;
  failAttempts?: number;
  /** The first N attempts of a conversation answer 429 with `retry-after: retryAfterSeconds`. */
  rateLimitAttempts?: number;
  retryAfterSeconds?: number;
  status?: number;
  toolSteps?: number;
  toolName?: string;
  toolArguments?: string;
  parallelToolCalls?: number;
  finishWithLength: boolean;
  /** The model reasons this text before answering. */
  reasoning?: string;
  /** The delta field the reasoning streams in: DeepSeek's and vLLM's `reasoning_content` (default) or OpenRouter's `reasoning`. */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** The reasoning is sent only encrypted, never as text. */
  encryptedReasoning: boolean;
  /** A streamed answer sends its first frame, then each next one only as the test releases it (`FakeModelServer.release`). */
  hold?: string;
}

export interface ParsedUserText {
  /** The user text with every directive token cut out; not trimmed. */
  text: string;
  directives: FakeDirectives;
}

const DIRECTIVE_OPENING = '[fake:';

export function parseDirectives(text: string): ParsedUserText {
  const directives: FakeDirectives = { finishWithLength: false, encryptedReasoning: false };
  let directiveStart = text.indexOf(DIRECTIVE_OPENING);
  if (directiveStart === -1) return { text, directives };

  let textWithoutDirectives = '';
  let copiedUpTo = 0;
  while (directiveStart !== -1) {
    const bodyStart = directiveStart + DIRECTIVE_OPENING.length;
    const closingBracket = findClosingBracket(text, bodyStart);
    if (closingBracket === -1) break;
    applyDirective(directives, text.slice(bodyStart, closingBracket));
    textWithoutDirectives += text.slice(copiedUpTo, directiveStart);
    copiedUpTo = closingBracket + 1;
    directiveStart = text.indexOf(DIRECTIVE_OPENING, copiedUpTo);
  }
  return { text: textWithoutDirectives + text.slice(copiedUpTo), directives };
}

/**
 * Brackets inside a value are balanced so `[fake:args={"ids":[1,2]}]` keeps its JSON array; an
 * unbalanced `[` inside a value falls back to the first `]`.
 */
function findClosingBracket(text: string, from: number): number {
  let depth = 0;
  for (let index = from; index < text.length; index++) {
    const char = text[index];
    if (char === '[') depth++;
    else if (char === ']') {
      if (depth === 0) return index;
      depth--;
    }
  }
  return text.indexOf(']', from);
}

function applyDirective(directives: FakeDirectives, body: string): void {
  const equalsSign = body.indexOf('=');
  const name = (equalsSign === -1 ? body : body.slice(0, equalsSign)).trim().toLowerCase();
  const value = equalsSign === -1 ? undefined : body.slice(equalsSign + 1);

  // A malformed value is ignored rather than rejected: the fake then behaves as if the directive
  // were absent, which shows up plainly in the test that wrote it.
  switch (name) {
    case 'reply':
      if (value !== undefined) directives.reply = value;
      break;
    case 'echo': {
      const times = parseNonNegativeInteger(value);
      if (times !== undefined && times > 0) directives.echoTimes = times;
      break;
    }
    case 'delay':
      directives.delayMs = parseNonNegativeInteger(value) ?? directives.delayMs;
      break;
    case 'fail':
      directives.failAttempts = parseNonNegativeInteger(value) ?? directives.failAttempts;
      break;
    case 'status':
      directives.status = parseErrorStatus(value) ?? directives.status;
      break;
    case 'ratelimit':
      directives.rateLimitAttempts = parseNonNegativeInteger(value) ?? directives.rateLimitAttempts;
      break;
    case 'retryafter':
      directives.retryAfterSeconds = parseNonNegativeInteger(value) ?? directives.retryAfterSeconds;
      break;
    case 'toolsteps':
      directives.toolSteps = parseNonNegativeInteger(value) ?? directives.toolSteps;
      break;
    case 'tool':
      if (value?.trim()) directives.toolName = value.trim();
      break;
    case 'hold':
      if (value?.trim()) directives.hold = value.trim();
      break;
    case 'args':
      if (value !== undefined) directives.toolArguments = value;
      break;
    case 'parallel': {
      const count = parseNonNegativeInteger(value);
      if (count !== undefined && count > 0) directives.parallelToolCalls = count;
      break;
    }
    case 'length':
      directives.finishWithLength = true;
      break;
    case 'reasoning':
      if (value !== undefined) directives.reasoning = value;
      break;
    case 'reasoningfield':
      if (value === 'reasoning' || value === 'reasoning_content') directives.reasoningField = value;
      break;
    case 'encryptedreasoning':
      directives.encryptedReasoning = true;
      break;
  }
}

function parseNonNegativeInteger(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) && parsed >= 0 ? parsed : undefined;
}

function parseErrorStatus(value: string | undefined): number | undefined {
  const status = parseNonNegativeInteger(value);
  return status !== undefined && status >= 400 && status <= 599 ? status : undefined;
}
