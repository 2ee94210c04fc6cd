import type { ContentPart, LettaMessage } from '@lrs/contracts';
import { toChatContent, toChatMessages } from './chat-messages';

const base = { date: '', name: null, otid: null, sender_id: null, step_id: null, is_err: null, seq_id: null, run_id: null };

describe('toChatContent', () => {
  it('passes a string through', () => {
    expect(toChatContent('hello')).toBe('hello');
  });

  it('maps text parts to text parts', () => {
    expect(toChatContent([{ type: 'text', text: 'a', signature: 'sig' }])).toEqual([{ type: 'text', text: 'a' }]);
  });

  it('maps a url image to an image_url part without detail', () => {
    expect(toChatContent([{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }])).toEqual([
      { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
    ]);
  });

  it('maps a base64 image to a data URL', () => {
    expect(toChatContent([{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'QUJD' } }])).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } },
    ]);
  });

  it('carries the detail of a base64 image', () => {
    expect(
      toChatContent([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'QUJD', detail: 'low' } }]),
    ).toEqual([{ type: 'image_url', image_url: { url: 'data:image/png;base64,QUJD', detail: 'low' } }]);
  });

  it('leaves out a null detail', () => {
    const [part] = toChatContent([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'QUJD', detail: null } },
    ]) as { image_url: object }[];
    expect(part.image_url).toEqual({ url: 'data:image/png;base64,QUJD' });
  });

  it('falls back to image/png for a letta source without a media type', () => {
    expect(toChatContent([{ type: 'image', source: { type: 'letta', file_id: 'file-1', data: 'QUJD' } }])).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,QUJD' } },
    ]);
  });

  it('keeps the order of mixed parts', () => {
    const parts: ContentPart[] = [
      { type: 'text', text: 'before' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
      { type: 'text', text: 'after' },
    ];
    expect((toChatContent(parts) as { type: string }[]).map((p) => p.type)).toEqual(['text', 'image_url', 'text']);
  });
});

describe('toChatMessages', () => {
  it('puts the system prompt first even with no history', () => {
    expect(toChatMessages('You are helpful.', [])).toEqual([{ role: 'system', content: 'You are helpful.' }]);
  });

  it('keeps history order, maps each type to its role, and skips reasoning', () => {
    const history: LettaMessage[] = [
      { ...base, id: 'm1', message_type: 'user_message', content: 'first question' },
      { ...base, id: 'm2', message_type: 'reasoning_message', source: 'reasoner_model', reasoning: 'thinking', signature: null },
      { ...base, id: 'm3', message_type: 'assistant_message', content: 'first answer' },
      { ...base, id: 'm4', message_type: 'system_message', content: 'a note from the system' },
      { ...base, id: 'm5', message_type: 'user_message', content: 'second question' },
    ];
    expect(toChatMessages('PROMPT', history)).toEqual([
      { role: 'system', content: 'PROMPT' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'system', content: 'a note from the system' },
      { role: 'user', content: 'second question' },
    ]);
  });

  it('sends user parts as chat parts', () => {
    const history: LettaMessage[] = [
      {
        ...base,
        id: 'm1',
        message_type: 'user_message',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
        ],
      },
    ];
    expect(toChatMessages('P', history)[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
      ],
    });
  });

  it('joins assistant text parts into one string', () => {
    const history: LettaMessage[] = [
      {
        ...base,
        id: 'm1',
        message_type: 'assistant_message',
        content: [
          { type: 'text', text: 'Hello, ' },
          { type: 'text', text: 'world' },
        ],
      },
    ];
    expect(toChatMessages('P', history)[1]).toEqual({ role: 'assistant', content: 'Hello, world' });
  });

  it('drops a history made only of reasoning', () => {
    const history: LettaMessage[] = [
      { ...base, id: 'm1', message_type: 'reasoning_message', source: 'non_reasoner_model', reasoning: 'x', signature: null },
    ];
    expect(toChatMessages('P', history)).toHaveLength(1);
  });
});
