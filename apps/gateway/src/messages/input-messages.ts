import { randomUUID } from 'node:crypto';
import { newId, type ContentPart, type LettaMessage, type MessageContent } from '@lrs/contracts';
import type { MessageCreateDto } from './dto/letta-request.dto';

/** Problems with the messages/input pair that field validation cannot see (Letta's model validator). */
export function inputProblem(body: { messages?: unknown[] | null; input?: unknown }): string | null {
  const hasMessages = body.messages !== undefined && body.messages !== null;
  const hasInput = body.input !== undefined && body.input !== null;
  if (hasMessages && hasInput) return "Cannot specify both 'input' and 'messages'. Use 'input' for a single user message or 'messages' for several.";
  if (!hasMessages && !hasInput) return "Must specify either 'input' or 'messages'.";
  if (hasMessages && body.messages!.length === 0) return 'Messages must not be empty';
  return null;
}

/** A single text part is shown as plain text, as Letta renders stored user content. */
function collapse(content: MessageContent): MessageContent {
  if (typeof content !== 'string' && content.length === 1 && content[0].type === 'text') return content[0].text;
  return content;
}

function plainText(content: MessageContent): string {
  return typeof content === 'string' ? content : content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The request's messages as the Letta messages stored for the run, with ids, otids and dates. */
export function renderInputMessages(
  body: { messages?: MessageCreateDto[] | null; input?: MessageContent | null },
  context: { runId: string; now: Date },
): LettaMessage[] {
  const requested: MessageCreateDto[] = body.messages ?? [{ role: 'user', content: body.input as MessageContent }];
  const date = new Date(Math.floor(context.now.getTime() / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
  return requested.map((message): LettaMessage => {
    const common = {
      id: newId('message'),
      date,
      name: message.name ?? null,
      otid: message.otid ?? randomUUID(),
      sender_id: message.sender_id ?? null,
      step_id: null,
      is_err: null,
      seq_id: null,
      run_id: context.runId,
    };
    const content = normalizeParts(message.content);
    switch (message.role) {
      case 'system':
        return { ...common, message_type: 'system_message', content: plainText(content) };
      case 'assistant':
        return { ...common, message_type: 'assistant_message', content: plainText(content) };
      default:
        return { ...common, message_type: 'user_message', content: collapse(content) };
    }
  });
}

/** Parts may omit `type` on the wire; stored parts always carry it. */
function normalizeParts(content: MessageContent): MessageContent {
  if (typeof content === 'string') return content;
  return content.map((part) => {
    const raw = part as Partial<ContentPart> & { text?: string; source?: unknown };
    return (raw.type ? raw : raw.text !== undefined ? { type: 'text', text: raw.text } : { type: 'image', source: raw.source }) as ContentPart;
  });
}
