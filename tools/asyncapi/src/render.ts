import { stringify } from 'yaml';
import { asyncApiDocument } from './document';

/** docs/asyncapi.yaml as `npm run asyncapi` writes it. */
export function renderAsyncApi(): string {
  return `# Generated from libs/contracts by \`npm run asyncapi\`; a test fails when it differs.\n${stringify(asyncApiDocument(), { aliasDuplicateObjects: false, lineWidth: 0 })}`;
}
