import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { Parser } from '@asyncapi/parser';
import { parse } from 'yaml';
import { RUN_EVENT_EXAMPLES, RUN_EVENT_TYPES, runEventMessageSchema } from '@lrs/contracts';
import { renderAsyncApi } from './render';

const FILE = resolve(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml');
const text = readFileSync(FILE, 'utf8');
const document = parse(text) as { components: { schemas: Record<string, unknown>; messages: Record<string, unknown> }; channels: Record<string, { messages?: Record<string, unknown> }> };

/** The schema with its local $refs replaced by what they point at. */
function dereferenced(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(dereferenced);
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref) return dereferenced(document.components.schemas[ref.replace('#/components/schemas/', '')]);
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, dereferenced(value)]));
}

describe('docs/asyncapi.yaml', () => {
  it('is what `npm run asyncapi` writes from the contracts (run it after changing them)', () => {
    expect(text).toBe(renderAsyncApi());
  });

  it.each(RUN_EVENT_TYPES)('publishes %s on runs.{runId} with the payload schema of the contract', (type) => {
    expect(document.channels['runEvents'].messages?.[type]).toEqual({ $ref: `#/components/messages/${type}` });
    expect(document.components.messages[type]).toMatchObject({ name: type, payload: { $ref: `#/components/schemas/${type}Event` } });
    expect(dereferenced(document.components.schemas[`${type}Event`])).toEqual(runEventMessageSchema(type));
  });

  it("validates the documented examples with the document's own schemas", () => {
    const ajv = new Ajv({ strictTypes: false });
    addFormats(ajv, ['date-time']);
    for (const type of RUN_EVENT_TYPES) {
      const validate = ajv.compile(dereferenced(document.components.schemas[`${type}Event`]) as object);
      expect({ type, valid: validate(RUN_EVENT_EXAMPLES[type]), errors: validate.errors ?? null }).toEqual({ type, valid: true, errors: null });
      expect(validate({ ...RUN_EVENT_EXAMPLES[type], runId: 42 })).toBe(false);
    }
  });

  it('is a valid AsyncAPI 3 document: the AsyncAPI parser reports no error and no warning', async () => {
    const diagnostics = await new Parser().validate(text);
    const problems = diagnostics.filter((diagnostic) => diagnostic.severity <= 1).map((diagnostic) => `${diagnostic.code}: ${diagnostic.message} at ${diagnostic.path.join('.')}`);
    expect(problems).toEqual([]);
  });
});
