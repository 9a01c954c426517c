// A real 3-master Redis Cluster on loopback for tests: three redis-server
// processes in cluster mode (explicit bus ports, so only ports we checked
// are used), joined with `redis-cli --cluster create`, ready once every node
// reports cluster_state:ok.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, LOOPBACK, startRedisServer } from "./redis-server.js";
import { findOnPath } from "./require-tool.js";
import type { RedisServer } from "./redis-server.js";

const run = promisify(execFile);

export interface RedisCluster {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly servers: readonly RedisServer[];
  /** Runs redis-cli against one node and returns its trimmed output. */
  cli(port: number, ...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * One node's CLUSTER INFO says the Cluster is settled: its state is ok,
 * every slot is assigned and served (none pending or failing), and it knows
 * every node. cluster_state:ok alone can come while a node still learns the
 * others by gossip.
 */
export function isSettled(info: string, nodes: number): boolean {
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, "m").exec(info)?.[1];
  return (
    field("cluster_state") === "ok" &&
    field("cluster_slots_assigned") === "16384" &&
    field("cluster_slots_ok") === "16384" &&
    field("cluster_known_nodes") === String(nodes) &&
    field("cluster_size") === String(nodes)
  );
}

export function redisClusterTools(): { server: string; cli: string } | undefined {
  const server = findOnPath("redis-server");
  const cli = findOnPath("redis-cli");
  return server === undefined || cli === undefined ? undefined : { server, cli };
}

export async function startRedisCluster(masters = 3, extraArgs: readonly string[] = []): Promise<RedisCluster> {
  const tools = redisClusterTools();
  if (tools === undefined) throw new Error("redis-server and redis-cli must be on PATH");
  const servers: RedisServer[] = [];
  const cli = async (port: number, ...args: string[]): Promise<string> => {
    const { stdout } = await run(tools.cli, ["-h", LOOPBACK, "-p", String(port), ...args], { timeout: 60_000 });
    return stdout.trim();
  };
  try {
    for (let i = 0; i < masters; i += 1) {
      const busPort = await freePort();
      servers.push(
        await startRedisServer({
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
            "--cluster-port",
            String(busPort),
            ...extraArgs,
          ],
        }),
      );
    }
    const [first] = servers;
    if (first === undefined) throw new Error("no cluster nodes");
    await cli(
      first.port,
      "--cluster",
      "create",
      ...servers.map((server) => `${LOOPBACK}:${server.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    );
    const deadline = Date.now() + 30_000;
    for (const server of servers) {
      for (;;) {
        const info = await cli(server.port, "cluster", "info");
        if (isSettled(info, servers.length)) break;
        if (Date.now() > deadline) throw new Error(`cluster not settled on port ${server.port}:\n${info}`);
        await sleep(50);
      }
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    throw error;
  }
  return {
    nodes: servers.map((server) => ({ host: server.host, port: server.port })),
    servers,
    cli,
    async close() {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}

/** The parts of an ioredis Cluster client that say whether it is connected everywhere. */
export interface ClusterClientView {
  readonly status: string;
  nodes(role: "master"): readonly { readonly status: string }[];
}

/**
 * A Cluster client is "ready" once its first node answers, which can be
 * before it has a connection (and the whole slot map) for every master: the
 * first commands then fail. Wait for this before the first command.
 */
export function clusterClientConnected(client: ClusterClientView, masters: number): boolean {
  if (client.status !== "ready") return false;
  const nodes = client.nodes("master");
  return nodes.length === masters && nodes.every((node) => node.status === "ready");
}
