import { DEFAULT_EMBEDDING_HANDLE } from '@lrs/contracts';
import { Env, readCommonSettings } from '@lrs/config';
import { CONSUMER_POLICIES } from '@lrs/jetstream';
import { readProviders } from './providers';
import { readSandboxSettings } from '@lrs/tool-sandbox';

export function readWorkerSettings(env = new Env()) {
  return {
    ...readCommonSettings('llm-worker', env),
    /** The OpenAI-compatible endpoints, by the provider part of model handles (`openai` always). */
    providers: readProviders(env),
    /**
     * Steps in flight per process. A step mostly waits on the model, and one in flight held about
     * 0.6 MB (the bench, 2 s model latency: 275 MB at 64 in flight, 476 MB at about 400), so 256
     * costs about 150 MB more at full load; at 64, one worker with a 2 s model completed at most
     * 29 runs/s while its CPU idled (docs/run-path.md, "Steps in flight").
     */
    concurrency: env.int('LLM_WORKER_CONCURRENCY', 256, { min: 1, max: 4096 }),
    modelTimeoutMs: env.int('MODEL_TIMEOUT_MS', 120_000, { min: 100 }),
    modelMaxAttempts: env.int('MODEL_MAX_ATTEMPTS', 3, { min: 1, max: 20 }),
    modelRetryBaseMs: env.int('MODEL_RETRY_BASE_MS', 250, { min: 0 }),
    /** Longest provider-requested pause (retry-after) a step waits out before it gives up. */
    modelRetryAfterMaxMs: env.int('MODEL_RETRY_AFTER_MAX_MS', 60_000, { min: 0 }),
    dbPoolSize: env.int('DB_POOL_SIZE', 10, { min: 1 }),
    /** The embedding model of agents that name none (`embedding` on create). */
    defaultEmbeddingHandle: env.string('DEFAULT_EMBEDDING_MODEL', DEFAULT_EMBEDDING_HANDLE),
    /** Most memory the archival vector index holds (least recently searched archives go first). */
    /** Embed messages in the background for search by meaning (opt-in: it costs an embedding call per message). */
    messageEmbeddings: env.bool('MESSAGE_EMBEDDINGS', false),
    /** Pause between two sweeps for messages without vectors. */
    messageEmbeddingsIntervalMs: env.int('MESSAGE_EMBEDDINGS_INTERVAL_MS', 1_000, { min: 50, max: 3_600_000 }),
    /** Custom tools' sandbox: processes, time and memory limits, network (docs/tool-sandbox.md). */
    sandbox: readSandboxSettings(env),
    fetchWebpageTimeoutMs: env.int('FETCH_WEBPAGE_TIMEOUT_MS', 15_000, { min: 100, max: 300_000 }),
    archivalIndexMaxBytes: env.int('ARCHIVAL_INDEX_MAX_MB', 1_024, { min: 1, max: 1_048_576 }) * 1024 * 1024,
    /** Tests only (see FaultInjection): markers of steps that kill the worker, or pause it, between their write and their append. */
    faults: {
      killAfterStepWrite: env.string('FAULT_KILL_AFTER_STEP_WRITE', ''),
      pauseAfterStepWrite: env.string('FAULT_PAUSE_AFTER_STEP_WRITE', ''),
      pauseMs: env.int('FAULT_PAUSE_MS', 3_000, { min: 0, max: 60_000 }),
    },
    workingEveryMs: Math.max(100, Math.floor((env.int('JETSTREAM_ACK_WAIT_MS', 0, { min: 0 }) || CONSUMER_POLICIES.llmWorker.ackWaitMs) / 3)),
  };
}
export type WorkerSettings = ReturnType<typeof readWorkerSettings>;
export const WORKER_SETTINGS = Symbol('WORKER_SETTINGS');
