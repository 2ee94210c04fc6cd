import { authenticationMode } from './authentication-mode';

/** A key store with `count` active keys that records bootstraps (the real one is tested in auth.e2e-spec.ts). */
function keysWith(count: number) {
  const bootstrapped: string[] = [];
  return {
    bootstrapped,
    bootstrap: async (key: string) => {
      bootstrapped.push(key);
      count++;
    },
    activeCount: async () => count,
  };
}

const settings = { bootstrapApiKey: null, host: '127.0.0.1', allowUnauthenticated: false, organizationId: 'org-default' };

describe('authenticationMode', () => {
  it('serves a loopback address without keys, as the local mode', async () => {
    await expect(authenticationMode(keysWith(0), settings)).resolves.toEqual({ required: false, defaultOrganizationId: 'org-default' });
    await expect(authenticationMode(keysWith(0), { ...settings, host: '::1' })).resolves.toMatchObject({ required: false });
  });

  it('refuses a non-loopback address without keys unless told that is meant', async () => {
    await expect(authenticationMode(keysWith(0), { ...settings, host: '0.0.0.0' })).rejects.toThrow(/refusing to serve on 0\.0\.0\.0 without API keys/);
    await expect(authenticationMode(keysWith(0), { ...settings, host: '0.0.0.0', allowUnauthenticated: true })).resolves.toMatchObject({ required: false });
  });

  it('requires keys once one exists, or BOOTSTRAP_API_KEY makes the first', async () => {
    await expect(authenticationMode(keysWith(2), { ...settings, host: '0.0.0.0' })).resolves.toMatchObject({ required: true });
    const keys = keysWith(0);
    await expect(authenticationMode(keys, { ...settings, host: '0.0.0.0', bootstrapApiKey: 'lrs-first' })).resolves.toMatchObject({ required: true });
    expect(keys.bootstrapped).toEqual(['lrs-first']);
  });
});
