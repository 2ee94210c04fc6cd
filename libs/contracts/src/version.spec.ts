import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_VERSION } from './version';

it('reports the version package.json declares', () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  expect(SERVER_VERSION).toBe(version);
});
