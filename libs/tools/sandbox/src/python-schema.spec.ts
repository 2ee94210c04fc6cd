import { annotationToSchema, parseGoogleDocstring, schemaOfSource, type Annotation, type ParsedFunction } from './python-schema';

const name = (id: string): Annotation => ({ k: 'name', id });
const sub = (base: string, ...args: Annotation[]): Annotation => ({ k: 'sub', value: name(base), args });
const none: Annotation = { k: 'const', value: null };

function fn(docstring: string | null, params: ParsedFunction['params'], fnName = 'tool'): { ok: true; functions: ParsedFunction[] } {
  return { ok: true, functions: [{ name: fnName, docstring, params }] };
}
const param = (paramName: string, annotation: Annotation | null, hasDefault = false) => ({ name: paramName, annotation, hasDefault, kind: 'positional' });

describe('parseGoogleDocstring', () => {
  test('summary, long description, multi-line argument descriptions, Returns ignored', () => {
    const doc = parseGoogleDocstring(`Fetch the weather for a city.

    Uses the public API and caches
    results for an hour.

    Args:
        city (str): The city's name,
            as the user wrote it.
        units: "metric" or "imperial".

    Returns:
        str: A one-line forecast.
    `);
    expect(doc.shortDescription).toBe('Fetch the weather for a city.');
    expect(doc.longDescription).toBe('Uses the public API and caches\nresults for an hour.');
    expect(doc.params.get('city')).toBe("The city's name,\nas the user wrote it.");
    expect(doc.params.get('units')).toBe('"metric" or "imperial".');
    expect(doc.params.has('str')).toBe(false);
  });

  test('a one-line docstring, Arguments: as the section title, and Examples kept for the description', () => {
    const doc = parseGoogleDocstring('Add two numbers.\n\nArguments:\n    a (int): first\n    b (int): second\n\nExamples:\n    add(1, 2) -> 3\n');
    expect(doc.shortDescription).toBe('Add two numbers.');
    expect(doc.longDescription).toBeNull();
    expect([...doc.params.entries()]).toEqual([['a', 'first'], ['b', 'second']]);
    expect(doc.examples).toBe('Examples:\n    add(1, 2) -> 3');
  });
});

describe('annotationToSchema', () => {
  test.each<[string, Annotation, Record<string, unknown>]>([
    ['str', name('str'), { type: 'string' }],
    ['int', name('int'), { type: 'integer' }],
    ['float', name('float'), { type: 'number' }],
    ['bool', name('bool'), { type: 'boolean' }],
    ['list', name('list'), { type: 'array', items: { type: 'string' } }],
    ['dict', name('dict'), { type: 'object' }],
    ['List[int]', sub('List', name('int')), { type: 'array', items: { type: 'integer' } }],
    ['list[list[str]]', sub('list', sub('list', name('str'))), { type: 'array', items: { type: 'array', items: { type: 'string' } } }],
    ['Optional[int]', sub('Optional', name('int')), { type: 'integer' }],
    ['int | None', { k: 'union', args: [name('int'), none] }, { type: 'integer' }],
    ["Literal['a', 'b']", sub('Literal', { k: 'const', value: 'a' }, { k: 'const', value: 'b' }), { type: 'string', enum: ['a', 'b'] }],
    ['Tuple[int, str]', sub('Tuple', name('int'), name('str')), { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }], minItems: 2, maxItems: 2 }],
    ['typing.List[str]', { k: 'sub', value: { k: 'attr', value: name('typing'), attr: 'List' }, args: [name('str')] }, { type: 'array', items: { type: 'string' } }],
  ])('%s', (_text, annotation, schema) => {
    expect(annotationToSchema(annotation)).toEqual(schema);
  });

  test.each<[string, Annotation, string]>([
    ['Union[int, str]', sub('Union', name('int'), name('str')), 'General Union types are not yet supported'],
    ['Dict[str, int]', sub('Dict', name('str'), name('int')), 'Dictionary types'],
    ['Any', name('Any'), 'has no corresponding JSON schema type'],
  ])('%s is refused', (_text, annotation, problem) => {
    expect(() => annotationToSchema(annotation)).toThrow(problem);
  });
});

describe('schemaOfSource', () => {
  test("Letta's schema: description, properties with descriptions, required without defaults or Optional; agent_state left out", () => {
    const result = schemaOfSource(
      fn('Search notes.\n\nLonger text.\n\nArgs:\n    query (str): Words.\n    limit: Most results.\n    tag: A tag.\n', [
        param('query', name('str')),
        param('limit', name('int'), true),
        param('tag', sub('Optional', name('str'))),
        param('agent_state', { k: 'other', text: 'AgentState' }),
      ]),
    );
    expect(result).toEqual({
      ok: true,
      schema: {
        name: 'tool',
        description: 'Search notes.\n\nLonger text.',
        parameters: {
          type: 'object',
          properties: {
            query: { type: 'string', description: 'Words.' },
            limit: { type: 'integer', description: 'Most results.' },
            tag: { type: 'string', description: 'A tag.' },
          },
          required: ['query'],
        },
      },
    });
  });

  test('the named function, else the last top-level one', () => {
    const parsed = { ok: true as const, functions: [{ name: 'helper', docstring: 'H.', params: [] }, { name: 'main', docstring: 'M.', params: [] }] };
    expect(schemaOfSource(parsed)).toMatchObject({ ok: true, schema: { name: 'main', description: 'M.' } });
    expect(schemaOfSource(parsed, 'helper')).toMatchObject({ ok: true, schema: { name: 'helper' } });
    expect(schemaOfSource(parsed, 'absent')).toEqual({ ok: false, problem: expect.stringContaining("No function named 'absent'") });
    expect(schemaOfSource({ ok: true, functions: [] })).toEqual({ ok: false, problem: 'No function definition found in the source code' });
  });

  test('problems: no docstring, an undocumented or unannotated argument', () => {
    expect(schemaOfSource(fn(null, [param('x', name('int'))]))).toEqual({ ok: false, problem: expect.stringContaining("Function 'tool' has no docstring") });
    expect(schemaOfSource(fn(null, []))).toMatchObject({ ok: true, schema: { description: 'No description available' } });
    expect(schemaOfSource(fn('Doc.\n\nArgs:\n    x: An x.\n', [param('x', name('int')), param('y', name('int'))]))).toEqual({
      ok: false,
      problem: "Parameter 'y' in function 'tool' lacks a description in the docstring",
    });
    expect(schemaOfSource(fn('Doc.\n\nArgs:\n    x: An x.\n', [param('x', null)]))).toEqual({ ok: false, problem: "Parameter 'x' in function 'tool' lacks a type annotation" });
    expect(schemaOfSource({ ok: false, problem: 'Syntax error in the source code at line 3: invalid syntax' })).toEqual({ ok: false, problem: 'Syntax error in the source code at line 3: invalid syntax' });
  });
});
