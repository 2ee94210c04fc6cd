import { isLoopback, withStartupRetries } from '@lrs/config';
import type { ApiKeyStore } from '@lrs/read-model';
import type { GatewaySettings } from '../config/env';
import type { AuthenticationMode } from './authentication';

/**
 * Keys are required once any exists (BOOTSTRAP_API_KEY makes the first). Without keys the gateway
 * serves only on a loopback address, unless ALLOW_UNAUTHENTICATED says that is meant.
 */
export async function authenticationMode(
  keys: Pick<ApiKeyStore, 'bootstrap' | 'activeCount'>,
  settings: Pick<GatewaySettings, 'bootstrapApiKey' | 'host' | 'allowUnauthenticated' | 'organizationId'>,
  // Postgres may be restarting while the gateway starts: wait for it rather than exit.
  retry: <T>(what: string, work: () => Promise<T>) => Promise<T> = withStartupRetries,
): Promise<AuthenticationMode> {
  const bootstrapKey = settings.bootstrapApiKey;
  if (bootstrapKey) await retry('making the bootstrap key', () => keys.bootstrap(bootstrapKey, settings.organizationId));
  const required = (await retry('counting API keys', () => keys.activeCount())) > 0;
  if (!required && !isLoopback(settings.host) && !settings.allowUnauthenticated) {
    throw new Error(
      `refusing to serve on ${settings.host} without API keys: set BOOTSTRAP_API_KEY (an admin key), or ALLOW_UNAUTHENTICATED=true if something in front authenticates`,
    );
  }
  return { required, defaultOrganizationId: settings.organizationId };
}
