import { Env, readCommonSettings } from '@lrs/config';

export function readProjectorSettings(env = new Env()) {
  return {
    ...readCommonSettings('projector', env),
    /** Events applied in one Postgres transaction at most; also the consumer's in-flight window. */
    batchSize: env.int('PROJECTOR_BATCH_SIZE', 256, { min: 1, max: 4096 }),
    /** How long the first event of a batch waits for others (ProjectionBatcher): fewer, larger transactions at light load. */
    batchLingerMs: env.int('PROJECTOR_BATCH_LINGER_MS', 20, { min: 0, max: 1_000 }),
    dbPoolSize: env.int('DB_POOL_SIZE', 4, { min: 1 }),
  };
}
export type ProjectorSettings = ReturnType<typeof readProjectorSettings>;
export const PROJECTOR_SETTINGS = Symbol('PROJECTOR_SETTINGS');
