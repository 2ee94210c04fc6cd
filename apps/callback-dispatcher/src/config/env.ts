import { Env, readCommonSettings } from '@lrs/config';

export function readDispatcherSettings(env = new Env()) {
  return {
    ...readCommonSettings('callback-dispatcher', env),
    concurrency: env.int('CALLBACK_CONCURRENCY', 256, { min: 1, max: 4096 }),
    timeoutMs: env.int('CALLBACK_TIMEOUT_MS', 5_000, { min: 100, max: 60_000 }),
    maxAttempts: env.int('CALLBACK_MAX_ATTEMPTS', 5, { min: 1, max: 25 }),
    retryBaseMs: env.int('CALLBACK_RETRY_BASE_MS', 1_000, { min: 0 }),
    retryCapMs: env.int('CALLBACK_RETRY_CAP_MS', 60_000, { min: 0 }),
    signingSecret: env.optionalString('CALLBACK_SIGNING_SECRET'),
    allowPrivateNetworks: env.bool('CALLBACK_ALLOW_PRIVATE_NETWORKS', false),
  };
}
export type DispatcherSettings = ReturnType<typeof readDispatcherSettings>;
export const DISPATCHER_SETTINGS = Symbol('DISPATCHER_SETTINGS');
