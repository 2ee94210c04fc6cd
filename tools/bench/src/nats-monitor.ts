import { SERVICE_NAMES } from '@lrs/local-stack';

/** Messages a connection (or all of one owner's) exchanged with nats-server, as the server counts them. */
export interface NatsMessageCounts {
  /** Sent by the client: publishes, requests (pull requests, JetStream API calls) and acks. */
  in: number;
  /** Sent by the server to the client: deliveries of consumed messages and replies to requests. */
  out: number;
}

/** Cumulative counts of every connection nats-server knows of, by connection id (never reused by a server). */
export type ConnectionCounts = Map<number, { owner: string; counts: NatsMessageCounts }>;

/** Owner of the bench's own connections (event tap, stream and consumer info, ceiling consumers). */
export const BENCH_OWNER = 'bench';

/** Far more than the bench ever opens; a reading that does not fit in one page is refused rather than cut short. */
const CONNZ_LIMIT = 1024;

interface ConnzReply {
  total: number;
  connections?: { cid: number; name?: string; in_msgs: number; out_msgs: number }[];
}

/**
 * Every connection's counters from nats-server's /connz. `state=all` adds the connections closed
 * since (the server keeps their final counts), so one that closes within a window still counts
 * what it exchanged before.
 */
export async function readConnectionCounts(monitorUrl: string): Promise<ConnectionCounts> {
  const response = await fetch(`${monitorUrl}/connz?state=all&limit=${CONNZ_LIMIT}`);
  if (!response.ok) throw new Error(`nats-server /connz answered ${response.status}`);
  const reply = (await response.json()) as ConnzReply;
  const connections = reply.connections ?? [];
  if (reply.total > connections.length) throw new Error(`nats-server knows ${reply.total} connections, more than one /connz page of ${CONNZ_LIMIT}`);
  return new Map(connections.map((connection) => [connection.cid, { owner: ownerOf(connection.name), counts: { in: connection.in_msgs, out: connection.out_msgs } }]));
}

/**
 * Services name their connection after SERVICE_NAME, which defaults to the name the bench knows
 * the service by; replicas and gateway workers share it and add up. The bench's connections are
 * `bench` and `bench-...`.
 */
function ownerOf(connectionName: string | undefined): string {
  if (!connectionName) return 'unnamed';
  return connectionName === BENCH_OWNER || connectionName.startsWith(`${BENCH_OWNER}-`) ? BENCH_OWNER : connectionName;
}

/** Messages of each owner's connections between two readings: services in the bench's order, unknown names after them, the bench last. */
export function messagesBetween(from: ConnectionCounts, to: ConnectionCounts): Record<string, NatsMessageCounts> {
  const byOwner = new Map<string, NatsMessageCounts>();
  for (const [cid, { owner, counts }] of to) {
    // A connection opened in between counts from zero.
    const before = from.get(cid)?.counts ?? { in: 0, out: 0 };
    // Idle ones add nothing but a column: e.g. the port probe of the server's start-up, closed without a name.
    if (counts.in === before.in && counts.out === before.out) continue;
    const sum = byOwner.get(owner) ?? { in: 0, out: 0 };
    byOwner.set(owner, { in: sum.in + counts.in - before.in, out: sum.out + counts.out - before.out });
  }
  const rank = (owner: string) => {
    if (owner === BENCH_OWNER) return SERVICE_NAMES.length + 1;
    const index = (SERVICE_NAMES as readonly string[]).indexOf(owner);
    return index === -1 ? SERVICE_NAMES.length : index;
  };
  return Object.fromEntries([...byOwner].sort(([a], [b]) => rank(a) - rank(b)));
}
