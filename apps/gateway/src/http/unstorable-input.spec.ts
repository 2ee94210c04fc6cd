import { MAX_JSON_DEPTH, unstorableInputProblem } from './unstorable-input';

describe('unstorableInputProblem', () => {
  it('accepts ordinary bodies, emoji (paired surrogates) included', () => {
    expect(unstorableInputProblem({ input: 'hello 😀', messages: [{ role: 'user', content: [{ type: 'text', text: 'ok' }] }] })).toBeNull();
    expect(unstorableInputProblem(null)).toBeNull();
  });

  it.each([
    [{ input: 'bad \u0000 byte' }, 'body.input contains a NUL'],
    [{ messages: [{ content: 'x\ud800' }] }, 'body.messages[0].content contains'],
    [{ metadata: { note: '\udc00y' } }, 'body.metadata.note contains'],
    [{ tags: ['ok', 'n\u0000'] }, 'body.tags[1] contains'],
    [{ metadata: { 'k\u0000': 1 } }, 'body.metadata has a key'],
  ])('names the field that holds a NUL or a lone surrogate: %j', (body, expected) => {
    expect(unstorableInputProblem(body)).toContain(expected);
  });

  it('refuses nesting past the bound without recursing', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(unstorableInputProblem({ input: deep })).toContain(`nested more than ${MAX_JSON_DEPTH} levels`);
    let fine: unknown = 'leaf';
    for (let i = 0; i < MAX_JSON_DEPTH - 2; i++) fine = { a: fine };
    expect(unstorableInputProblem({ x: fine })).toBeNull();
  });
});
