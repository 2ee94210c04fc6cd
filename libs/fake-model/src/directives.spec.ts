import { parseDirectives } from './directives';

describe('parseDirectives', () => {
  it('returns text without directives unchanged', () => {
    const parsed = parseDirectives('hello there');
    expect(parsed.text).toBe('hello there');
    expect(parsed.directives).toEqual({ finishWithLength: false, encryptedReasoning: false });
  });

  it('cuts every directive out of the text and keeps the rest verbatim', () => {
    const parsed = parseDirectives('[fake:delay=50]say [fake:length]hi ');
    expect(parsed.text).toBe('say hi ');
    expect(parsed.directives).toEqual({ delayMs: 50, finishWithLength: true, encryptedReasoning: false });
  });

  it('takes a reply with spaces up to the closing bracket', () => {
    const parsed = parseDirectives('q [fake:reply=Hello, brave new world!] tail');
    expect(parsed.directives.reply).toBe('Hello, brave new world!');
    expect(parsed.text).toBe('q  tail');
  });

  it('reads reasoning, its delta field and whether it is encrypted', () => {
    expect(parseDirectives('[fake:reasoning=Think it over.][fake:reasoningfield=reasoning]').directives).toMatchObject({
      reasoning: 'Think it over.',
      reasoningField: 'reasoning',
      encryptedReasoning: false,
    });
    const encrypted = parseDirectives('[fake:reasoning=x][fake:reasoningfield=thoughts][fake:encryptedreasoning]').directives;
    expect(encrypted.encryptedReasoning).toBe(true);
    expect(encrypted.reasoningField).toBeUndefined();
  });

  it('accepts an empty reply', () => {
    expect(parseDirectives('[fake:reply=]').directives.reply).toBe('');
  });

  it('reads numeric directives', () => {
    const { directives } = parseDirectives('[fake:fail=2][fake:status=429][fake:toolsteps=3][fake:parallel=2]');
    expect(directives).toMatchObject({ failAttempts: 2, status: 429, toolSteps: 3, parallelToolCalls: 2 });
  });

  it('reads tool name and JSON arguments, keeping nested brackets', () => {
    const { directives, text } = parseDirectives('go [fake:tool=lookup][fake:args={"ids":[1,[2]],"q":"x"}] now');
    expect(directives.toolName).toBe('lookup');
    expect(directives.toolArguments).toBe('{"ids":[1,[2]],"q":"x"}');
    expect(text).toBe('go  now');
  });

  it('falls back to the first closing bracket when a value opens one it never closes', () => {
    const { directives, text } = parseDirectives('[fake:reply=a [b] rest');
    expect(directives.reply).toBe('a [b');
    expect(text).toBe(' rest');
  });

  it('leaves an unterminated directive in the text', () => {
    const parsed = parseDirectives('oops [fake:reply=never closed');
    expect(parsed.text).toBe('oops [fake:reply=never closed');
    expect(parsed.directives.reply).toBeUndefined();
  });

  it('ignores malformed values and unknown names but still removes them', () => {
    const { directives, text } = parseDirectives(
      'x[fake:delay=soon][fake:fail=-1][fake:status=200][fake:parallel=0][fake:bogus=1][fake:tool= ]y',
    );
    expect(directives).toEqual({ finishWithLength: false, encryptedReasoning: false });
    expect(text).toBe('xy');
  });

  it('lets a later directive of the same name win', () => {
    expect(parseDirectives('[fake:reply=first][fake:reply=second]').directives.reply).toBe('second');
  });

  it('matches directive names case-insensitively', () => {
    expect(parseDirectives('[fake:ToolSteps=1]').directives.toolSteps).toBe(1);
  });
});
