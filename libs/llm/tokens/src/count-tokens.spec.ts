import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { countTextTokens } from './count-tokens';

describe('countTextTokens', () => {
  it('counts ordinary text exactly as the encoding does', () => {
    for (const text of ['', 'hello world', 'The quick brown fox, 42 times!\n\tAnd again.', 'naïve café – 東京 🎉']) {
      expect(countTextTokens(text)).toBe(countTokens(text));
    }
  });

  // The exact encoder needs minutes for this input, past the test's timeout.
  it('counts a megabyte without whitespace, within a token per piece of the exact count', () => {
    const word = 'Z'.repeat(1_000_000);
    const counted = countTextTokens(`before ${word} after`);
    // The exact count of a piece is known; the whole is pieces plus the words around them.
    const pieces = Math.ceil(word.length / 256);
    expect(counted).toBeGreaterThanOrEqual(pieces);
    expect(counted).toBeLessThanOrEqual(pieces * countTokens('Z'.repeat(256)) + countTokens('before  after') + pieces);
  });
});

describe('countTextTokens on text with several long runs', () => {
  it('cuts every one of them, the first included', () => {
    const run = 'Q'.repeat(300_000);
    const text = `a ${run} b ${run} c`;
    expect(countTextTokens(text)).toBe(2 * countTextTokens(run) + countTokens('a  b  c'));
  });
});

describe('countTextTokens on texts counted again', () => {
  it('answers a text seen before as counted the first time, also after more distinct texts than it remembers', () => {
    const texts = Array.from({ length: 700 }, (_, index) => `system prompt of agent ${index}: ${'remember the user and be brief. '.repeat(1 + (index % 7))}`);
    const first = texts.map((text) => countTextTokens(text));
    expect(first).toEqual(texts.map((text) => countTokens(text)));
    expect(texts.map((text) => countTextTokens(text))).toEqual(first);
    expect([...texts].reverse().map((text) => countTextTokens(text))).toEqual([...first].reverse());
  });
});
