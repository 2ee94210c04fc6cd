import SwaggerParser from '@apidevtools/swagger-parser';
import { TestStack } from '@lrs/testing';

/** GET /openapi.json is a valid OpenAPI document: every $ref resolves, and a real validator passes it. */
describe('the OpenAPI document', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('validates, with every $ref resolving', async () => {
    const document = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as Record<string, unknown>;
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    expect([...new Set(refs.filter((name) => !(name in schemas)))]).toEqual([]);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });
});
