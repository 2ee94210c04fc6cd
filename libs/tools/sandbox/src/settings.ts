import { Env } from '@lrs/config';
import type { SandboxSettings } from './types';

/** The sandbox's settings from the environment (every name appears literally: deploy checks grep for them). */
export function readSandboxSettings(env: Env = new Env()): SandboxSettings {
  return {
    processes: env.int('TOOL_SANDBOX_PROCESSES', 2, { min: 1, max: 256 }),
    timeoutMs: env.int('TOOL_TIMEOUT_MS', 30_000, { min: 100, max: 3_600_000 }),
    memoryLimitBytes: env.int('TOOL_MEMORY_LIMIT_MB', 512, { min: 128, max: 65_536 }) * 1024 * 1024,
    maxOutputChars: env.int('TOOL_MAX_OUTPUT_CHARS', 50_000, { min: 100, max: 10_000_000 }),
    network: {
      enabled: env.bool('TOOL_NETWORK', false),
      allowPrivateNetworks: env.bool('TOOL_NETWORK_ALLOW_PRIVATE', false),
    },
  };
}
