import type { ContentPart, LettaMessage, MessageContent } from '@lrs/contracts';
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';

/** Letta content parts to Chat Completions parts; images become image_url parts (data URLs for base64). */
export function toChatContent(content: MessageContent): string | ChatCompletionContentPart[] {
  if (typeof content === 'string') return content;
  return content.map((part: ContentPart): ChatCompletionContentPart => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    const source = part.source;
    const url =
      source.type === 'url' ? source.url : `data:${source.media_type ?? 'image/png'};base64,${source.data ?? ''}`;
    const detail = source.type === 'url' ? undefined : (source.detail as 'auto' | 'low' | 'high' | undefined) ?? undefined;
    return { type: 'image_url', image_url: detail ? { url, detail } : { url } };
  });
}

function textOf(content: MessageContent): string {
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The prompt for one model call: the compiled system prompt, then the history in order. */
export function toChatMessages(systemPrompt: string, history: LettaMessage[]): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: systemPrompt }];
  for (const message of history) {
    switch (message.message_type) {
      case 'user_message':
        messages.push({ role: 'user', content: toChatContent(message.content) });
        break;
      case 'system_message':
        messages.push({ role: 'system', content: message.content });
        break;
      case 'assistant_message':
        messages.push({ role: 'assistant', content: textOf(message.content) });
        break;
      case 'tool_call_message':
      case 'approval_request_message':
        messages.push({
          role: 'assistant',
          content: null,
          tool_calls: message.tool_calls.map((call) => ({
            id: call.tool_call_id,
            type: 'function' as const,
            function: { name: call.name, arguments: call.arguments },
          })),
        });
        break;
      case 'tool_return_message':
        for (const result of message.tool_returns) {
          messages.push({ role: 'tool', tool_call_id: result.tool_call_id, content: result.tool_return });
        }
        break;
      case 'reasoning_message':
      case 'hidden_reasoning_message':
      case 'approval_response_message':
      case 'summary_message':
      case 'event_message':
        // Reasoning is the model's own scratchpad (Chat Completions takes none back), an approval
        // reaches the model as the tool results that follow it, and compaction notices are for
        // clients (the summary itself is in the thread as a user message): none is sent.
        break;
    }
  }
  return messages;
}
