import { isLettaId, type MessageContent } from '@lrs/contracts';
import type { MessageCreateDto } from './dto/letta-request.dto';
import { inputProblem, renderInputMessages } from './input-messages';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const context = { runId: 'run-abc', now: new Date('2025-06-07T08:09:10.987Z') };

const message = (overrides: Partial<MessageCreateDto>): MessageCreateDto => ({ role: 'user', content: 'hi', ...overrides });

describe('inputProblem', () => {
  it('rejects both input and messages', () => {
    expect(inputProblem({ messages: [{}], input: 'hi' })).toBe(
      "Cannot specify both 'input' and 'messages'. Use 'input' for a single user message or 'messages' for several.",
    );
  });

  it('rejects both even when messages is empty', () => {
    expect(inputProblem({ messages: [], input: 'hi' })).toMatch(/^Cannot specify both/);
  });

  it.each([{}, { messages: null }, { input: null }, { messages: null, input: null }, { messages: undefined, input: undefined }])(
    'rejects neither (%j)',
    (body) => {
      expect(inputProblem(body)).toBe("Must specify either 'input' or 'messages'.");
    },
  );

  it('rejects an empty messages list', () => {
    expect(inputProblem({ messages: [] })).toBe('Messages must not be empty');
  });

  it.each([{ messages: [{ role: 'user' }] }, { input: 'hello' }, { input: [] }, { input: '' }, { messages: [{}], input: null }])(
    'accepts %j',
    (body) => {
      expect(inputProblem(body)).toBeNull();
    },
  );
});

describe('renderInputMessages', () => {
  it('renders string input as one user message', () => {
    const [rendered, ...rest] = renderInputMessages({ input: 'hello there' }, context);
    expect(rest).toEqual([]);
    expect(rendered).toMatchObject({
      message_type: 'user_message',
      content: 'hello there',
      name: null,
      sender_id: null,
      step_id: null,
      is_err: null,
      seq_id: null,
      run_id: 'run-abc',
    });
  });

  it('prefers messages when input is null', () => {
    const rendered = renderInputMessages({ messages: [message({ content: 'from messages' })], input: null }, context);
    expect(rendered.map((m) => m.message_type === 'user_message' && m.content)).toEqual(['from messages']);
  });

  it('renders part-list input as a user message', () => {
    const input: MessageContent = [
      { type: 'text', text: 'a' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/x.png' } },
    ];
    const [rendered] = renderInputMessages({ input }, context);
    expect(rendered).toMatchObject({ message_type: 'user_message', content: input });
  });

  it('gives ids of the form message-<uuid4>, distinct per message', () => {
    const rendered = renderInputMessages({ messages: [message({}), message({}), message({})] }, context);
    for (const m of rendered) expect(isLettaId('message', m.id)).toBe(true);
    expect(new Set(rendered.map((m) => m.id)).size).toBe(3);
  });

  it('dates messages at second precision with an explicit +00:00 offset', () => {
    const [rendered] = renderInputMessages({ input: 'x' }, context);
    expect(rendered.date).toBe('2025-06-07T08:09:10+00:00');
  });

  it('truncates rather than rounds sub-second time', () => {
    const [rendered] = renderInputMessages({ input: 'x' }, { runId: 'r', now: new Date('2025-01-01T00:00:59.999Z') });
    expect(rendered.date).toBe('2025-01-01T00:00:59+00:00');
  });

  it('gives every message of one request the same date and the run id', () => {
    const rendered = renderInputMessages({ messages: [message({}), message({ role: 'system' })] }, context);
    expect(rendered.map((m) => m.date)).toEqual(['2025-06-07T08:09:10+00:00', '2025-06-07T08:09:10+00:00']);
    expect(rendered.map((m) => m.run_id)).toEqual(['run-abc', 'run-abc']);
  });

  it('keeps a client otid and generates a uuid otherwise', () => {
    const [kept, generated, generatedToo] = renderInputMessages(
      { messages: [message({ otid: 'client-otid-1' }), message({}), message({ otid: null })] },
      context,
    );
    expect(kept.otid).toBe('client-otid-1');
    expect(generated.otid).toMatch(UUID4);
    expect(generatedToo.otid).toMatch(UUID4);
    expect(generated.otid).not.toBe(generatedToo.otid);
  });

  it('keeps name and sender_id', () => {
    const [rendered] = renderInputMessages({ messages: [message({ name: 'ada', sender_id: 'user-1' })] }, context);
    expect(rendered).toMatchObject({ name: 'ada', sender_id: 'user-1' });
  });

  it('keeps the request order and maps each role to its message type', () => {
    const rendered = renderInputMessages(
      {
        messages: [
          message({ role: 'system', content: 'rules' }),
          message({ role: 'user', content: 'question' }),
          message({ role: 'assistant', content: 'answer' }),
        ],
      },
      context,
    );
    expect(rendered.map((m) => [m.message_type, 'content' in m ? m.content : undefined])).toEqual([
      ['system_message', 'rules'],
      ['user_message', 'question'],
      ['assistant_message', 'answer'],
    ]);
  });

  it.each(['system', 'assistant'] as const)('renders %s part lists as plain text, dropping images', (role) => {
    const [rendered] = renderInputMessages(
      {
        messages: [
          message({
            role,
            content: [
              { type: 'text', text: 'one ' },
              { type: 'image', source: { type: 'url', url: 'https://example.com/x.png' } },
              { type: 'text', text: 'two' },
            ],
          }),
        ],
      },
      context,
    );
    expect(rendered).toMatchObject({ message_type: `${role}_message`, content: 'one two' });
  });

  it('collapses a single user text part to a string', () => {
    const [rendered] = renderInputMessages({ messages: [message({ content: [{ type: 'text', text: 'only' }] })] }, context);
    expect(rendered).toMatchObject({ message_type: 'user_message', content: 'only' });
  });

  it('keeps a single user image part as a list', () => {
    const content: MessageContent = [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }];
    const [rendered] = renderInputMessages({ messages: [message({ content })] }, context);
    expect(rendered).toMatchObject({ message_type: 'user_message', content });
  });

  it('keeps multi-part user content as a list', () => {
    const content: MessageContent = [
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ];
    const [rendered] = renderInputMessages({ messages: [message({ content })] }, context);
    expect(rendered).toMatchObject({ message_type: 'user_message', content });
  });

  it('adds the missing type to parts sent without one', () => {
    const untyped = [{ text: 'look' }, { source: { type: 'url', url: 'https://example.com/y.png' } }] as unknown as MessageContent;
    const [rendered] = renderInputMessages({ messages: [message({ content: untyped })] }, context);
    expect(rendered).toMatchObject({
      message_type: 'user_message',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image', source: { type: 'url', url: 'https://example.com/y.png' } },
      ],
    });
  });

  it('collapses a single untyped text part to a string', () => {
    const untyped = [{ text: 'plain' }] as unknown as MessageContent;
    const [rendered] = renderInputMessages({ input: untyped }, context);
    expect(rendered).toMatchObject({ message_type: 'user_message', content: 'plain' });
  });

  it('does not mutate the request content', () => {
    const untyped = [{ text: 'a' }, { text: 'b' }];
    renderInputMessages({ input: untyped as unknown as MessageContent }, context);
    expect(untyped).toEqual([{ text: 'a' }, { text: 'b' }]);
  });
});
