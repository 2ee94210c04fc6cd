import { contentProblem } from './content.validator';

describe('contentProblem', () => {
  describe('accepts', () => {
    it.each([
      ['a string', 'hello'],
      ['a typed text part', [{ type: 'text', text: 'hi' }]],
      ['an untyped text part', [{ text: 'hi' }]],
      ['an https image url', [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }]],
      ['an http image url', [{ type: 'image', source: { type: 'url', url: 'http://example.com/a.png' } }]],
      ['an upper-case scheme', [{ type: 'image', source: { type: 'url', url: 'HTTPS://EXAMPLE.COM/A.PNG' } }]],
      ['a data url', [{ type: 'image', source: { type: 'url', url: 'data:image/png;base64,AAAA' } }]],
      ['an untyped image part', [{ source: { type: 'url', url: 'https://example.com/a.png' } }]],
      ['a base64 image', [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } }]],
      [
        'mixed parts',
        [
          { type: 'text', text: 'look' },
          { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'AAAA' } },
        ],
      ],
    ])('%s', (_label, value) => {
      expect(contentProblem(value)).toBeNull();
    });
  });

  describe('rejects', () => {
    it.each([
      ['a number', 42, 'must be a string or a list of content parts'],
      ['null', null, 'must be a string or a list of content parts'],
      ['undefined', undefined, 'must be a string or a list of content parts'],
      ['an object', { type: 'text', text: 'hi' }, 'must be a string or a list of content parts'],
      ['an empty list', [], 'must not be an empty list'],
      ['a string part', ['hi'], 'part 0 must be an object'],
      ['a null part', [null], 'part 0 must be an object'],
      ['a non-string text', [{ type: 'text', text: 5 }], 'part 0 text must be a string'],
      ['a text part without text', [{ type: 'text' }], 'part 0 text must be a string'],
      ['an unknown part type', [{ type: 'audio' }], 'part 0 has unsupported type "audio" (expected "text" or "image")'],
      ['a part with neither text nor source', [{}], 'part 0 has unsupported type undefined (expected "text" or "image")'],
      ['an image without source', [{ type: 'image' }], 'part 0 source must be an object'],
      ['a string source', [{ type: 'image', source: 'https://example.com/a.png' }], 'part 0 source must be an object'],
      ['a null source', [{ type: 'image', source: null }], 'part 0 source must be an object'],
      ['an ftp url', [{ type: 'image', source: { type: 'url', url: 'ftp://example.com/a.png' } }], 'part 0 source.url must be an http(s) or data URL'],
      ['a relative url', [{ type: 'image', source: { type: 'url', url: '/a.png' } }], 'part 0 source.url must be an http(s) or data URL'],
      ['a missing url', [{ type: 'image', source: { type: 'url' } }], 'part 0 source.url must be an http(s) or data URL'],
      [
        'a non-image media type',
        [{ type: 'image', source: { type: 'base64', media_type: 'text/plain', data: 'AAAA' } }],
        'part 0 source.media_type must be an image media type',
      ],
      [
        'a missing media type',
        [{ type: 'image', source: { type: 'base64', data: 'AAAA' } }],
        'part 0 source.media_type must be an image media type',
      ],
      [
        'empty base64 data',
        [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: '' } }],
        'part 0 source.data must be base64 text',
      ],
      [
        'missing base64 data',
        [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }],
        'part 0 source.data must be base64 text',
      ],
      ['a letta file source', [{ type: 'image', source: { type: 'letta', file_id: 'file-1' } }], 'part 0 source.type must be "url" or "base64"'],
      ['a source without type', [{ type: 'image', source: { url: 'https://example.com/a.png' } }], 'part 0 source.type must be "url" or "base64"'],
    ])('%s', (_label, value, problem) => {
      expect(contentProblem(value)).toBe(problem);
    });

    it('names the index of the first bad part', () => {
      expect(contentProblem([{ type: 'text', text: 'ok' }, { type: 'text', text: 'ok' }, { type: 'text' }, 7])).toBe(
        'part 2 text must be a string',
      );
    });

    it('trusts an explicit type over the fields present', () => {
      expect(contentProblem([{ type: 'text', source: { type: 'url', url: 'https://example.com/a.png' } }])).toBe(
        'part 0 text must be a string',
      );
    });
  });
});
