import { readChatCompletionRequest, type ChatCompletionRequest } from './chat-request';
import { planCompletion, splitIntoTokens } from './completion-plan';

function requestOf(body: Record<string, unknown>): ChatCompletionRequest {
  const read = readChatCompletionRequest({ model: 'gpt-4o-mini', ...body });
  if (!read.ok) throw new Error(read.message);
  return read.request;
}

const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } };

describe('splitIntoTokens', () => {
  it.each(['Echo: hello  brave\nworld', '  leading', 'trailing  ', '', 'one'])(
    'reassembles %j exactly',
    (text) => {
      expect(splitIntoTokens(text).join('')).toBe(text);
    },
  );

  it('keeps the leading space with each word', () => {
    expect(splitIntoTokens('Echo: hi there')).toEqual(['Echo:', ' hi', ' there']);
  });
});

describe('readChatCompletionRequest', () => {
  it('rejects a body without messages', () => {
    expect(readChatCompletionRequest({ model: 'm' })).toMatchObject({ ok: false, param: 'messages' });
  });

  it('rejects a body without model', () => {
    expect(readChatCompletionRequest({ messages: [{ role: 'user', content: 'x' }] })).toMatchObject({
      ok: false,
      param: 'model',
    });
  });

  it('concatenates text parts and skips image parts', () => {
    const request = requestOf({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look ' },
            { type: 'image_url', image_url: { url: 'data:,' } },
            { type: 'text', text: 'here' },
          ],
        },
      ],
    });
    expect(request.messages[0].text).toBe('look here');
  });
});

describe('planCompletion', () => {
  it('echoes the last user text with directives removed and trimmed', () => {
    const plan = planCompletion(
      requestOf({
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'Echo: first' },
          { role: 'user', content: '  second [fake:delay=5] ' },
        ],
      }),
    );
    expect(plan.answer).toMatchObject({ kind: 'text', text: 'Echo: second', finishReason: 'stop' });
    expect(plan.directives.delayMs).toBe(5);
  });

  it('ignores directives in earlier user messages', () => {
    const plan = planCompletion(
      requestOf({
        messages: [
          { role: 'user', content: '[fake:reply=old]' },
          { role: 'user', content: 'new' },
        ],
      }),
    );
    expect(plan.answer).toMatchObject({ kind: 'text', text: 'Echo: new' });
  });

  it('says the user text as many times as the echo directive asks', () => {
    const plan = planCompletion(requestOf({ messages: [{ role: 'user', content: 'hi there [fake:echo=3]' }] }));
    expect(plan.answer).toMatchObject({ kind: 'text', text: 'Echo: hi there hi there hi there' });
  });

  it('answers with the reply directive and finishes with length when asked', () => {
    const plan = planCompletion(
      requestOf({ messages: [{ role: 'user', content: '[fake:reply=Cut short][fake:length]' }] }),
    );
    expect(plan.answer).toMatchObject({ kind: 'text', text: 'Cut short', finishReason: 'length' });
  });

  it('counts prompt tokens as OpenAI does and completion tokens as emitted', () => {
    const plan = planCompletion(
      requestOf({
        messages: [
          { role: 'system', content: 'abcdefghij' },
          { role: 'user', content: '[fake:reply=one two three]' },
        ],
      }),
    );
    // o200k_base: 2 + 9 content tokens, 4 per message, 3 to prime the reply
    expect(plan.usage).toEqual({
      prompt_tokens: 22,
      completion_tokens: 3,
      total_tokens: 25,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it('counts the tool schemas into the prompt', () => {
    const without = planCompletion(requestOf({ messages: [{ role: 'user', content: 'x' }] }));
    const withTools = planCompletion(requestOf({ tools: [weatherTool], messages: [{ role: 'user', content: 'x' }] }));
    expect(withTools.usage.prompt_tokens).toBeGreaterThan(without.usage.prompt_tokens + 5);
  });

  it('cuts a reply at max_tokens (or max_completion_tokens) and finishes with length', () => {
    const long = { role: 'user', content: '[fake:reply=one two three four five]' };
    expect(planCompletion(requestOf({ max_tokens: 2, messages: [long] })).answer).toMatchObject({ text: 'one two', finishReason: 'length' });
    expect(planCompletion(requestOf({ max_completion_tokens: 3, messages: [long] })).answer).toMatchObject({ text: 'one two three', finishReason: 'length' });
    expect(planCompletion(requestOf({ max_tokens: 9, messages: [long] })).answer).toMatchObject({ text: 'one two three four five', finishReason: 'stop' });
  });

  it('reasons before answering when asked, and counts the reasoning as completion tokens', () => {
    const plan = planCompletion(requestOf({ messages: [{ role: 'user', content: 'hi [fake:reasoning=Let me think.]' }] }));
    expect(plan.answer).toMatchObject({ kind: 'text', text: 'Echo: hi', reasoning: { tokens: ['Let', ' me', ' think.'], field: 'reasoning_content', encrypted: false } });
    expect(plan.usage).toMatchObject({ completion_tokens: 5, completion_tokens_details: { reasoning_tokens: 3 } });
  });

  it('reads a context window from a model named …-ctx<N>', () => {
    expect(requestOf({ model: 'gpt-4o-mini-ctx3000', messages: [{ role: 'user', content: 'x' }] }).contextWindow).toBe(3000);
    expect(requestOf({ messages: [{ role: 'user', content: 'x' }] }).contextWindow).toBeUndefined();
  });

  describe('tool steps', () => {
    const userTurn = { role: 'user', content: 'weather? [fake:toolsteps=2][fake:args={"city":"Oslo"}]' };
    const toolStep = (id: string, result: string) => [
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      { role: 'tool', tool_call_id: id, content: result },
    ];

    it('calls the first request tool with the given arguments while steps remain', () => {
      const plan = planCompletion(requestOf({ tools: [weatherTool], messages: [userTurn] }));
      expect(plan.answer.kind).toBe('tool_calls');
      if (plan.answer.kind !== 'tool_calls') return;
      expect(plan.answer.toolCalls).toHaveLength(1);
      expect(plan.answer.toolCalls[0]).toMatchObject({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
      expect(plan.answer.toolCalls[0].id).toMatch(/^call_[0-9a-f]{24}$/);
      // one per call + ceil(15 / 4)
      expect(plan.usage.completion_tokens).toBe(5);
    });

    it('gives identical requests identical tool-call ids and different steps different ids', () => {
      const first = planCompletion(requestOf({ tools: [weatherTool], messages: [userTurn] }));
      const again = planCompletion(requestOf({ tools: [weatherTool], messages: [userTurn] }));
      const second = planCompletion(
        requestOf({ tools: [weatherTool], messages: [userTurn, ...toolStep('call_a', 'rain')] }),
      );
      expect(again.answer).toEqual(first.answer);
      expect(second.answer.kind).toBe('tool_calls');
      expect(second.answer).not.toEqual(first.answer);
    });

    it('answers with text naming the last tool result once all steps are taken', () => {
      const plan = planCompletion(
        requestOf({
          tools: [weatherTool],
          messages: [userTurn, ...toolStep('call_a', 'rain'), ...toolStep('call_b', 'sun')],
        }),
      );
      expect(plan.answer).toMatchObject({ kind: 'text', text: 'Done after 2 tool steps: sun' });
    });

    it('only counts tool steps after the last user message', () => {
      const plan = planCompletion(
        requestOf({
          messages: [
            { role: 'user', content: 'earlier' },
            ...toolStep('call_old', 'old'),
            { role: 'user', content: '[fake:toolsteps=1]' },
          ],
        }),
      );
      expect(plan.answer.kind).toBe('tool_calls');
    });

    it('falls back to the noop tool and empty arguments', () => {
      const plan = planCompletion(requestOf({ messages: [{ role: 'user', content: '[fake:toolsteps=1]' }] }));
      expect(plan.answer).toMatchObject({ kind: 'tool_calls', toolCalls: [{ name: 'noop', arguments: '{}' }] });
    });

    it('prefers the tool directive and emits parallel calls with distinct ids', () => {
      const plan = planCompletion(
        requestOf({
          tools: [weatherTool],
          messages: [{ role: 'user', content: '[fake:toolsteps=1][fake:tool=search][fake:parallel=3]' }],
        }),
      );
      if (plan.answer.kind !== 'tool_calls') throw new Error('expected tool calls');
      expect(plan.answer.toolCalls.map((call) => call.name)).toEqual(['search', 'search', 'search']);
      expect(new Set(plan.answer.toolCalls.map((call) => call.id)).size).toBe(3);
    });
  });
});
