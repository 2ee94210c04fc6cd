import { Env, EnvError, readCommonSettings } from '@lrs/config';
import { DEFAULT_EMBEDDING_HANDLE, DEFAULT_ORGANIZATION_ID } from '@lrs/contracts';

export function readGatewaySettings(env = new Env()) {
  const defaultModelHandle = env.string('DEFAULT_MODEL_HANDLE', 'openai/gpt-4o-mini');
  if (!/^[^/\s]+\/\S+$/.test(defaultModelHandle)) {
    throw new EnvError(`DEFAULT_MODEL_HANDLE must look like '<provider>/<model>', got "${defaultModelHandle}"`);
  }
  return {
    ...readCommonSettings('gateway', env),
    port: env.int('PORT', 8283, { min: 0, max: 65535 }),
    /** Loopback unless told otherwise: nothing is exposed by accident. */
    host: env.string('HOST', '127.0.0.1'),
    /** An admin key of the default organization, made at start if it does not exist (README, "Authentication"). */
    bootstrapApiKey: env.optionalString('BOOTSTRAP_API_KEY'),
    /** Serve without keys on a non-loopback address (a deliberate choice, e.g. behind an authenticating proxy). */
    allowUnauthenticated: env.bool('ALLOW_UNAUTHENTICATED', false),
    /**
     * Browser origins allowed to call the API (CORS): Letta's ADE and any localhost port unless
     * set; `*` allows every origin.
     */
    corsOrigins: env.list('CORS_ORIGINS'),
    /** Model handles agents and override_model may name; empty allows any. */
    allowedModels: env.list('ALLOWED_MODELS'),
    defaultModelHandle,
    organizationId: env.string('ORGANIZATION_ID', DEFAULT_ORGANIZATION_ID),
    bodyLimit: env.string('REQUEST_BODY_LIMIT', '10mb'),
    dbPoolSize: env.int('DB_POOL_SIZE', 10, { min: 1 }),
    /** How long POST /v1/agents/{id}/messages waits for its run before answering 504 (the run goes on). */
    syncRunTimeoutMs: env.int('SYNC_RUN_TIMEOUT_MS', 600_000, { min: 1_000 }),
    /** How long the compact routes wait for a worker's summary before answering 504 (nothing changes then). */
    compactionTimeoutMs: env.int('COMPACTION_TIMEOUT_MS', 120_000, { min: 1_000 }),
    /** How long agents.tools.run waits for a worker to run the tool before answering 504 (nothing changes then). */
    // Longer than a sandboxed tool's limit (TOOL_TIMEOUT_MS, 30 s) and an MCP call's (MCP_CALL_TIMEOUT_MS, 60 s), so those answer first.
    toolRunTimeoutMs: env.int('TOOL_RUN_TIMEOUT_MS', 75_000, { min: 1_000 }),
    /** Custom tools one organization may hold (`/v1/tools`). */
    maxToolsPerOrganization: env.int('MAX_TOOLS_PER_ORGANIZATION', 1_000, { min: 1, max: 1_000_000 }),
    /** How long an archival insert or search (embedding included) may take in an llm-worker. */
    archivalTimeoutMs: env.int('ARCHIVAL_TIMEOUT_MS', 60_000, { min: 1_000 }),
    /** Messages are embedded (by the llm-workers), so message search has its `vector` and `hybrid` modes. */
    messageEmbeddings: env.bool('MESSAGE_EMBEDDINGS', false),
    /** The embedding model of archives created without one. */
    defaultEmbeddingHandle: env.string('DEFAULT_EMBEDDING_MODEL', DEFAULT_EMBEDDING_HANDLE),
    /** Keep-alive ping interval on SSE streams when include_pings is on. */
    streamPingIntervalMs: env.int('STREAM_PING_INTERVAL_MS', 20_000, { min: 100 }),
    /** New runs answer 503 + Retry-After while more run events than this wait for the run path (0: no bound). */
    runBacklogLimit: env.int('RUN_BACKLOG_LIMIT', 2_000, { min: 0 }),
    runBacklogCheckMs: env.int('RUN_BACKLOG_CHECK_MS', 250, { min: 10 }),
    /** Runs queued or running per organization at most (0: no cap); past it, 429 + Retry-After. */
    organizationMaxRunsInFlight: env.int('ORG_MAX_RUNS_IN_FLIGHT', 0, { min: 0 }),
    /** How long a stopping gateway lets open requests and streams finish before it cuts them. */
    drainTimeoutMs: env.int('DRAIN_TIMEOUT_MS', 10_000, { min: 0 }),
    /** Run creations in progress in one gateway process at most; past it, 503 + Retry-After. */
    maxConcurrentCreates: env.int('MAX_CONCURRENT_CREATES', 512, { min: 1 }),
    /** Scheduled messages (docs/scheduling.md): schedules one agent may hold; past it, 422. */
    maxSchedulesPerAgent: env.int('MAX_SCHEDULES_PER_AGENT', 100, { min: 1 }),
    /** How often each gateway looks for due schedules: the floor of a firing's lateness. */
    schedulePollMs: env.int('SCHEDULE_POLL_MS', 500, { min: 10 }),
    /** Due schedules one gateway claims (and holds locked) per transaction. */
    scheduleBatchSize: env.int('SCHEDULE_BATCH_SIZE', 50, { min: 1, max: 1_000 }),
    /** A firing later than this (the server was down, or kept refusing) is skipped, not made. */
    scheduleMisfireGraceMs: env.int('SCHEDULE_MISFIRE_GRACE_SECONDS', 86_400, { min: 1 }) * 1_000,
    /** A firing the server could not make for now (overload, the log unavailable) is tried again after this. */
    scheduleRetryMs: env.int('SCHEDULE_RETRY_MS', 5_000, { min: 10 }),
    /** This gateway fires due schedules (every replica does by default; any may). */
    scheduleFiring: env.bool('SCHEDULE_FIRING', true),
    /** For tests only: cron patterns may have a sixth, leading seconds field. */
    scheduleCronSeconds: env.bool('SCHEDULE_CRON_SECONDS', false),
  };
}
export type GatewaySettings = ReturnType<typeof readGatewaySettings>;
export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');
