import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderAsyncApi } from './render';

/** `npm run asyncapi`: writes docs/asyncapi.yaml from the contracts. */
const target = resolve(__dirname, '..', '..', '..', '..', 'docs', 'asyncapi.yaml');
writeFileSync(target, renderAsyncApi());
process.stdout.write(`wrote ${target}\n`);
