import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { Env, nestLogLevels } from './env';

const RUN_ID = /\brun-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;
const AGENT_ID = /\bagent-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;

/**
 * One JSON object per line (LOG_FORMAT=json, the image's default): time, level, service, context,
 * message, and the run and agent a line is about when it names them, so a log pipeline can follow a
 * run across services.
 */
class JsonLogger extends ConsoleLogger {
  constructor(
    private readonly service: string,
    logLevels: LogLevel[],
  ) {
    super({ json: true, logLevels, colors: false });
  }

  protected override getJsonLogObject(message: unknown, options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown }) {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    const now = Date.now();
    return {
      time: new Date(now).toISOString(),
      timestamp: now,
      pid: process.pid,
      level: options.logLevel,
      service: this.service,
      ...(options.context ? { context: options.context } : {}),
      message,
      ...(RUN_ID.test(text) ? { run_id: RUN_ID.exec(text)![0] } : {}),
      ...(AGENT_ID.test(text) ? { agent_id: AGENT_ID.exec(text)![0] } : {}),
      ...(options.errorStack ? { stack: options.errorStack } : {}),
    };
  }
}

/** Nest's start-up chatter (a line per module and per route): shown from LOG_LEVEL=debug on. */
const START_UP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * The process's logger: LOG_LEVEL's levels, as JSON lines with LOG_FORMAT=json, else Nest's text,
 * coloured only on a terminal.
 */
export function serviceLogger(service: string, env = new Env()): ConsoleLogger {
  const levels = nestLogLevels(env.string('LOG_LEVEL', 'log'));
  const format = env.string('LOG_FORMAT', 'text');
  if (format !== 'text' && format !== 'json') throw new Error(`LOG_FORMAT must be text or json, got "${format}"`);
  const logger = format === 'json' ? new JsonLogger(service, levels) : new ConsoleLogger({ logLevels: levels, colors: process.stdout.isTTY === true && !process.env.NO_COLOR });
  if (levels.includes('debug')) return logger;
  const log = logger.log.bind(logger);
  logger.log = (message: unknown, ...rest: unknown[]) => {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && START_UP_CONTEXTS.has(context)) return;
    log(message, ...rest);
  };
  return logger;
}
