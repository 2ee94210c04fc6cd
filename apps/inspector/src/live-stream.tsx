import { useEffect, useState } from 'preact/hooks';
import { serverSentEvents } from './api';
import { Section } from './components';
import { Transcript } from './transcript';
import type { Message } from './types';

type Connection = 'connecting' | 'live' | 'ended' | 'failed';

/**
 * Follows a running run through its resumable stream, token by token: deltas of one message share
 * its id and are appended; the stored message, when it comes, brings what they missed. The
 * transcript below the page is reloaded when the stream ends, so this is only the live preview.
 */
export function LiveStream({ runId, onEnd }: { runId: string; onEnd: () => void }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const byId = new Map<string, Message>();
    const order: string[] = [];
    const apply = (chunk: Message & Record<string, unknown>) => {
      const previous = byId.get(chunk.id) as (Message & Record<string, unknown>) | undefined;
      if (!previous) order.push(chunk.id);
      const merged = { ...previous, ...chunk } as Message & Record<string, unknown>;
      for (const field of ['content', 'reasoning'] as const) {
        if (previous && typeof previous[field] === 'string' && typeof chunk[field] === 'string') merged[field] = (previous[field] as string) + (chunk[field] as string);
      }
      byId.set(chunk.id, merged as Message);
      setMessages(order.map((id) => byId.get(id)!));
    };
    (async () => {
      try {
        const body = { starting_after: 0, include_pings: false, stream_tokens: true };
        const stream = serverSentEvents(`/v1/runs/${runId}/stream`, body, controller.signal, () => setConnection('live'));
        for await (const { event, data } of stream) {
          if (data === '[DONE]') break;
          const chunk = JSON.parse(data) as Message & Record<string, unknown>;
          if (event === 'error') setError(String(chunk.message ?? chunk.detail ?? 'stream error'));
          else if (typeof chunk.id === 'string' && !['ping', 'user_message'].includes(String(chunk.message_type))) apply(chunk);
        }
        setConnection('ended');
      } catch (failure) {
        if (controller.signal.aborted) return;
        setConnection('failed');
        setError((failure as Error).message);
      }
      onEnd();
    })();
    return () => controller.abort();
  }, [runId]);

  const label = { connecting: 'Connecting…', live: 'Live', ended: 'Stream ended', failed: 'Stream interrupted' }[connection];
  return (
    <Section
      title="Live output"
      id="live"
      actions={
        <span class={`badge live-${connection}`} data-connection={connection}>
          {label}
        </span>
      }
    >
      {error && (
        <p class="state error" role="alert">
          {error}
        </p>
      )}
      {messages.length === 0 ? <p class="muted">Waiting for the model…</p> : <Transcript messages={messages} live />}
    </Section>
  );
}
