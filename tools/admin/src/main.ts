import { parseArgs } from 'node:util';
import { Env } from '@lrs/config';
import { ApiKeyStore, createReadModelDataSource, type ApiKeyView } from '@lrs/read-model';

const USAGE = `usage: npm run admin -- create-key --organization NAME [--name NAME] [--admin]
       npm run admin -- list-keys
       npm run admin -- revoke-key KEY_ID

API keys for operators, straight on the database (DATABASE_URL): the same keys as
POST/GET/DELETE /v1/admin/api-keys. A new key is printed once; only its digest is stored.`;

/** `npm run admin`: API keys from the command line (README, "Authentication"). */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { organization: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  const [command, argument] = positionals;
  const valid = command === 'list-keys' || (command === 'create-key' && values.organization) || (command === 'revoke-key' && argument);
  if (values.help || !valid) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const dataSource = await createReadModelDataSource({ url: new Env().string('DATABASE_URL'), poolSize: 1, applicationName: 'admin' }).initialize();
  try {
    const keys = new ApiKeyStore(dataSource);
    if (command === 'create-key') {
      const created = await keys.create({ organization: values.organization!, name: values.name, admin: values.admin ?? false });
      console.log(`${describe(created)}\nkey (shown once): ${created.key}`);
    } else if (command === 'list-keys') {
      for (const key of await keys.list()) console.log(describe(key));
    } else if (!(await keys.revoke(argument))) {
      console.error(`no active key ${argument}`);
      return 1;
    } else {
      console.log(`revoked ${argument}`);
    }
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

function describe(key: ApiKeyView): string {
  const state = key.revoked_at ? `revoked ${key.revoked_at}` : `last used ${key.last_used_at ?? 'never'}`;
  return `${key.id} ${key.prefix}… ${key.organization} (${key.organization_id})${key.admin ? ' admin' : ''}, ${state}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`admin failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
