import { Collapsible, Empty } from './components';
import { formatTime } from './format';
import type { Message } from './types';

type AnyMessage = Message & Record<string, unknown>;

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text?: string; type?: string }) => part.text ?? `[${part.type ?? 'part'}]`).join('');
  return JSON.stringify(content);
}

const LABELS: Record<string, string> = {
  user_message: 'User',
  assistant_message: 'Assistant',
  reasoning_message: 'Reasoning',
  hidden_reasoning_message: 'Reasoning (hidden)',
  system_message: 'System',
  tool_call_message: 'Tool call',
  tool_return_message: 'Tool result',
  approval_request_message: 'Approval requested',
  approval_response_message: 'Approval answer',
  summary_message: 'Summary',
  event_message: 'Event',
};

function Body({ message }: { message: AnyMessage }) {
  switch (message.message_type) {
    case 'tool_call_message':
    case 'approval_request_message': {
      const calls = (message.tool_calls?.length ? message.tool_calls : [message.tool_call]) as { name: string; arguments: string; tool_call_id: string }[];
      return (
        <>
          {calls.map((call) => (
            <Collapsible key={call.tool_call_id} summary={<><code>{call.name}</code> arguments</>} text={call.arguments} />
          ))}
        </>
      );
    }
    case 'tool_return_message':
      return <Collapsible summary={<>result <span class={message.status === 'error' ? 'bad' : 'ok'}>{message.status}</span></>} text={message.tool_return} />;
    case 'approval_response_message':
      return (
        <ul class="plain">
          {message.approvals.map((answer) => (
            <li key={answer.tool_call_id}>
              <code>{answer.tool_call_id}</code>:{' '}
              {answer.type === 'approval' ? (answer.approve ? <span class="ok">approved</span> : <span class="bad">denied{answer.reason ? ` (${answer.reason})` : ''}</span>) : <>result {answer.tool_return}</>}
            </li>
          ))}
        </ul>
      );
    case 'reasoning_message':
      return <p class="prose reasoning">{message.reasoning}</p>;
    case 'hidden_reasoning_message':
      return <p class="muted">{message.state}</p>;
    default:
      return <p class="prose">{text(message.content)}</p>;
  }
}

export function Transcript({ messages, live = false }: { messages: Message[]; live?: boolean }) {
  if (messages.length === 0) return <Empty>No messages.</Empty>;
  return (
    <ol class="transcript" aria-live={live ? 'polite' : undefined}>
      {messages.map((message, index) => (
        <li key={`${message.id}-${index}`} class={`message ${message.message_type}`} data-message-type={message.message_type}>
          <div class="message-meta">
            <strong>{LABELS[message.message_type] ?? message.message_type}</strong>
            <time dateTime={message.date}>{formatTime(message.date)}</time>
          </div>
          <Body message={message as AnyMessage} />
        </li>
      ))}
    </ol>
  );
}
