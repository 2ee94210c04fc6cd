import { Env, readCommonSettings } from '@lrs/config';

export function readOrchestratorSettings(env = new Env()) {
  return {
    ...readCommonSettings('orchestrator', env),
    concurrency: env.int('ORCHESTRATOR_CONCURRENCY', 64, { min: 1, max: 4096 }),
  };
}
export type OrchestratorSettings = ReturnType<typeof readOrchestratorSettings>;
export const ORCHESTRATOR_SETTINGS = Symbol('ORCHESTRATOR_SETTINGS');
