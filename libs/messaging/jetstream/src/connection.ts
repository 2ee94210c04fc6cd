import { InvalidArgumentError, connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
// Answered requests skip an Error the client builds for nothing (see the module).
import './answered-requests';

export interface JetStreamContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export interface ConnectOptions {
  servers: string;
  /** Shown in `nats server report connections`; one per process. */
  name: string;
  /**
   * Services: started while NATS is down, keep trying (as on a reconnect) instead of exiting.
   * Tools and tests leave it off, so a wrong URL fails at once.
   */
  waitForServer?: boolean;
  /**
   * How often the client pings its server; two unanswered pings count as a lost connection and
   * it moves to another server of NATS_URL. The client's own default (2 minutes) would leave a
   * service talking to a vanished node for minutes; a node that dies without closing its
   * sockets (a host lost, a partition) is only noticed this way.
   */
  pingIntervalMs?: number;
}

/** NATS_PING_INTERVAL_MS, or 10 s: a lost node is left within about 30 s. */
export const DEFAULT_PING_INTERVAL_MS = 10_000;

export async function connectJetStream(options: ConnectOptions): Promise<JetStreamContext> {
  const nc = await connect({
    servers: options.servers.split(',').map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: options.waitForServer ?? false,
    pingInterval: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    // Per attempt: a server in NATS_URL whose host is gone must not hold the client for the
    // default 20 s before it tries the next one.
    timeout: 5_000,
    maxPingOut: 2,
    // Async stack traces make the client build an Error per request: a quarter of the
    // orchestrator's CPU in the benchmark profile, for stacks nobody reads.
    noAsyncTraces: true,
  });
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const js = jetstream(nc, { timeout: 10_000 });
  return { nc, js, jsm };
}

/**
 * Whether the connection to NATS is up right now, from the client's own status events. A
 * request that needs the event log answers 503 at once while it is down, instead of waiting out
 * the publish timeout; the client keeps reconnecting in the background (without limit).
 */
export class ConnectionWatch {
  private connected = true;

  constructor(nc: NatsConnection) {
    void this.watch(nc);
  }

  get up(): boolean {
    return this.connected;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'close') this.connected = false;
      else if (status.type === 'reconnect') this.connected = true;
    }
  }
}

/**
 * The client refused to send a message larger than the server's `max_payload` (1 MB by default):
 * nothing was sent, and sending it again cannot succeed.
 */
export function exceedsMaxPayload(error: unknown): boolean {
  return error instanceof InvalidArgumentError && error.message.includes('max_payload');
}
