import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, stopChild, waitForPort } from '@lrs/local-stack';

/**
 * Where the nodes live: `netns` gives each node a host of its own (a Linux network namespace with
 * its own address on a bridge), so losing a node is a host vanishing from the network, with no
 * connection reset for anyone; `loopback` runs them side by side on 127.0.0.1.
 */
export type ClusterNetwork = 'netns' | 'loopback';

export interface ClusterNode {
  name: string;
  host: string;
  clientPort: number;
  url: string;
  /** Gone for good: its host is off the network and its process is dead. */
  lost: boolean;
  process: ChildProcess;
}

export interface NatsCluster {
  network: ClusterNetwork;
  nodes: ClusterNode[];
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  url: string;
  node(name: string): ClusterNode;
  /** The node leaves for good: its network goes down first (peers and clients hear nothing), then its process is killed. */
  lose(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Network namespaces need root and iproute2; where they cannot be made, the cluster runs on loopback. */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `lrsprobe${randomBytes(2).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The nodes have elected a JetStream meta leader: the JetStream API answers through each of them. */
async function waitForJetStream(urls: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of urls) {
    const nc = await connect({ servers: url, timeout: 5_000 });
    try {
      for (;;) {
        try {
          await (await jetstreamManager(nc, { timeout: 2_000 })).getAccountInfo();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`JetStream of the cluster did not answer within ${timeoutMs} ms: ${String(error)}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } finally {
      await nc.close();
    }
  }
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * A nats-server cluster with JetStream on every node (streams with replicas 3 keep working with
 * one node lost). Each node has its own store under a temporary directory, removed on stop.
 */
export async function startNatsCluster(options: { size?: number; network?: ClusterNetwork } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const network = options.network ?? (netnsAvailable() ? 'netns' : 'loopback');
  const id = randomBytes(2).toString('hex');
  const root = mkdtempSync(join(tmpdir(), 'lrs-nats-cluster-'));
  const teardown: (() => void)[] = [() => rmSync(root, { recursive: true, force: true })];
  const nodes: ClusterNode[] = [];

  const stop = async () => {
    await Promise.all(nodes.map((node) => stopChild(node.process, 2_000)));
    for (const step of teardown.reverse()) {
      try {
        step();
      } catch {
        // Best effort: the namespace or link may be gone already.
      }
    }
  };

  try {
    // The addresses every node listens on, and the commands that start a process on its host.
    const hosts: { host: string; clientPort: number; clusterPort: number; exec: string[] }[] = [];
    if (network === 'netns') {
      // 10.<x>.<y>.0/24 picked at random so that parallel clusters do not collide.
      const subnet = `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2), 16)}`;
      const bridge = `lrs${id}br`;
      ip('link', 'add', bridge, 'type', 'bridge');
      teardown.push(() => ip('link', 'del', bridge));
      ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
      ip('link', 'set', bridge, 'up');
      for (let index = 1; index <= size; index++) {
        const namespace = `lrs${id}n${index}`;
        const hostSide = `lrs${id}h${index}`;
        const host = `${subnet}.${10 + index}`;
        ip('netns', 'add', namespace);
        teardown.push(() => ip('netns', 'del', namespace));
        ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', `lrs${id}p${index}`);
        teardown.push(() => ip('link', 'del', hostSide));
        ip('link', 'set', `lrs${id}p${index}`, 'netns', namespace);
        ip('link', 'set', hostSide, 'master', bridge);
        ip('link', 'set', hostSide, 'up');
        ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${host}/24`, 'dev', `lrs${id}p${index}`);
        ip('netns', 'exec', namespace, 'ip', 'link', 'set', `lrs${id}p${index}`, 'up');
        ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
        hosts.push({ host, clientPort: 4222, clusterPort: 6222, exec: ['ip', 'netns', 'exec', namespace] });
      }
    } else {
      for (let index = 1; index <= size; index++) {
        hosts.push({ host: '127.0.0.1', clientPort: await freePort(), clusterPort: await freePort(), exec: [] });
      }
    }

    hosts.forEach((where, index) => {
      const name = `n${index + 1}`;
      const storeDir = join(root, name);
      mkdirSync(storeDir, { recursive: true });
      const routes = hosts.filter((other) => other !== where).map((other) => `nats-route://${other.host}:${other.clusterPort}`);
      const config = join(root, `${name}.conf`);
      writeFileSync(
        config,
        [
          `server_name: ${name}`,
          `listen: "${where.host}:${where.clientPort}"`,
          `jetstream { store_dir: "${storeDir}" }`,
          `cluster { name: lrs-${id}, listen: "${where.host}:${where.clusterPort}", routes: [${routes.map((route) => `"${route}"`).join(', ')}] }`,
        ].join('\n'),
      );
      const binary = process.env.NATS_SERVER_BIN ?? 'nats-server';
      const [command, ...args] = [...where.exec, binary, '-c', config];
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore'] });
      nodes.push({ name, host: where.host, clientPort: where.clientPort, url: `nats://${where.host}:${where.clientPort}`, lost: false, process: child });
    });
    await Promise.all(nodes.map((node) => waitForPort(node.clientPort, node.host, 30_000)));
    await waitForJetStream(nodes.map((node) => node.url));
  } catch (error) {
    await stop();
    throw error;
  }

  const byName = (name: string) => {
    const node = nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node ${name} in the cluster (${nodes.map((candidate) => candidate.name).join(', ')})`);
    return node;
  };
  return {
    network,
    nodes,
    url: nodes.map((node) => node.url).join(','),
    node: byName,
    lose: async (name) => {
      const node = byName(name);
      node.lost = true;
      if (network === 'netns') ip('link', 'set', `lrs${id}h${nodes.indexOf(node) + 1}`, 'down');
      await stopChild(node.process, 0, 'SIGKILL');
    },
    stop,
  };
}
