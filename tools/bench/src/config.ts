import { SERVICE_NAMES, type ServiceName } from '@lrs/local-stack';

export interface BenchConfig {
  quick: boolean;
  json: boolean;
  /** Latency of every fake model response. */
  modelLatencyMs: number;
  /** Fresh agents per phase; each closed-loop client owns one. */
  agents: number;
  /** Closed-loop clients (at most `agents`). */
  concurrency: number;
  warmupS: number;
  /** Measurement window of each closed-loop phase. */
  durationS: number;
  /** Offered load of the open-loop phase. */
  openRate: number;
  openDurationS: number;
  /** Runs created at the start of the open-loop phase that are left out of its latency figures. */
  openWarmupS: number;
  /** The open loop stops early once this many seconds of offered load are unfinished. */
  openMaxBacklogS: number;
  /** Runs of the 1-step ceiling shape (the 3-step shape uses half). */
  ceilingRuns: number;
  ceiling: boolean;
  /** After the load stops, give up waiting for callbacks when none arrived for this long. */
  stragglerTimeoutS: number;
  /** Services whose CPU is profiled (inspector profiler, like --cpu-prof). */
  profile: ServiceName[];
  /** Extra environment for every service (KEY=VALUE), for experiments. */
  serviceEnv: Record<string, string>;
  /** Processes of each service but the gateway (as the launcher's REPLICAS). */
  replicas: number;
  /** Gateway processes sharing its port (as the launcher's GATEWAY_WORKERS). */
  gatewayWorkers: number;
  logServices: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --quick                 short phases (whole bench well under 3 minutes)
  --json                  print the figures as one JSON object on the last line
  --model-latency-ms N    latency of the fake model (default 0)
  --agents N              agents per phase (default 200)
  --concurrency N         closed-loop clients (default: --agents)
  --warmup-s N            warm-up before each closed-loop window (default 10, quick 6)
  --duration-s N          closed-loop measurement window (default 60, quick 12)
  --open-rate N           offered load of the open-loop phase, runs/s (default 200)
  --open-duration-s N     open-loop phase length (default 60, quick 10)
  --open-max-backlog-s N  stop the open loop early once N s of offered runs are unfinished (default 30)
  --ceiling-runs N        runs in the raw JetStream + Postgres ceiling (default 15000, quick 3000)
  --no-ceiling            skip the ceiling measurement
  --straggler-timeout-s N after the load, stop waiting for callbacks once none came for N s (default 60, quick 20)
  --profile[=a,b]         CPU-profile services (default: all) and summarize their hot spots
  --service-env KEY=VALUE extra environment for every service (repeatable)
  --replicas N            processes of each service but the gateway (default 1)
  --gateway-workers N     gateway processes sharing its port (default 1)
  --log-services          print service output
`;

export function parseArgs(argv: readonly string[]): BenchConfig {
  const flags = new Map<string, string | true>();
  const serviceEnv: Record<string, string> = {};
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    const equals = arg.indexOf('=');
    const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
    let value: string | true = equals === -1 ? true : arg.slice(equals + 1);
    if (value === true && VALUE_FLAGS.has(name)) {
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('--')) throw new Error(`--${name} needs a value\n${USAGE}`);
      value = next;
      index++;
    }
    if (!VALUE_FLAGS.has(name) && !BOOLEAN_FLAGS.has(name) && name !== 'profile') throw new Error(`unknown option --${name}\n${USAGE}`);
    if (name === 'service-env') {
      const pair = String(value);
      const split = pair.indexOf('=');
      if (split <= 0) throw new Error(`--service-env needs KEY=VALUE, got ${pair}`);
      serviceEnv[pair.slice(0, split)] = pair.slice(split + 1);
      continue;
    }
    flags.set(name, value);
  }
  if (flags.has('help')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }

  const quick = flags.has('quick');
  const number = (name: string, fallback: number, min = 0): number => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got ${String(raw)}`);
    return value;
  };
  const agents = Math.round(number('agents', 200, 1));
  const profileFlag = flags.get('profile');
  let profile: ServiceName[] = [];
  if (profileFlag === true) profile = [...SERVICE_NAMES];
  else if (typeof profileFlag === 'string') {
    profile = profileFlag.split(',').map((name) => name.trim()).filter(Boolean) as ServiceName[];
    const unknown = profile.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
    if (unknown.length) throw new Error(`--profile: unknown service ${unknown.join(', ')} (services: ${SERVICE_NAMES.join(', ')})`);
  }
  return {
    quick,
    json: flags.has('json'),
    modelLatencyMs: number('model-latency-ms', 0),
    agents,
    concurrency: Math.min(agents, Math.round(number('concurrency', agents, 1))),
    warmupS: number('warmup-s', quick ? 6 : 10),
    durationS: number('duration-s', quick ? 12 : 60, 1),
    openRate: number('open-rate', 200, 1),
    openDurationS: number('open-duration-s', quick ? 10 : 60, 1),
    openWarmupS: quick ? 2 : 5,
    openMaxBacklogS: number('open-max-backlog-s', 30, 1),
    ceilingRuns: Math.round(number('ceiling-runs', quick ? 3_000 : 15_000, 10)),
    ceiling: !flags.has('no-ceiling'),
    stragglerTimeoutS: number('straggler-timeout-s', quick ? 20 : 60, 1),
    profile,
    serviceEnv,
    replicas: Math.round(number('replicas', 1, 1)),
    gatewayWorkers: Math.round(number('gateway-workers', 1, 1)),
    logServices: flags.has('log-services') || process.env.LOG_SERVICES === '1',
  };
}

const VALUE_FLAGS = new Set([
  'model-latency-ms',
  'agents',
  'concurrency',
  'warmup-s',
  'duration-s',
  'open-rate',
  'open-duration-s',
  'open-max-backlog-s',
  'ceiling-runs',
  'straggler-timeout-s',
  'service-env',
  'replicas',
  'gateway-workers',
]);
const BOOLEAN_FLAGS = new Set(['quick', 'json', 'no-ceiling', 'log-services', 'help']);
