// A Redis primary, its replica and three Sentinels (quorum 2) on loopback,
// from Debian's redis-server and redis-sentinel: what a failover drill needs.
// The primary can be killed; the group then waits for the Sentinels to name
// the promoted replica and gives the new primary a fresh replica of its own,
// so the next failover has somewhere to go. Without redis-sentinel, tests
// skip loudly, or fail with REQUIRE_REDIS_SENTINEL=1|true (CI).
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { findOnPath, skipWithoutTool } from "./require-tool.js";
import { LOOPBACK, redisServerBinary, startRedisServer, type RedisServer } from "./redis-server.js";

export const SENTINEL_MASTER_NAME = "pgchaos";

export interface SentinelGroup {
  /** REDIS_SENTINELS for the gateway: host:port,host:port,host:port. */
  readonly sentinelsEnv: string;
  /** The port the Sentinels name as master now. */
  masterPort(): Promise<number>;
  /** SIGKILLs the current primary, waits for the Sentinels to promote its replica, adds a new replica. */
  failOver(timeoutMs?: number): Promise<{ readonly from: number; readonly to: number; readonly tookMs: number }>;
  close(): Promise<void>;
}

export function redisSentinelBinary(): string | undefined {
  return findOnPath("redis-sentinel");
}

/** Whether both binaries are here; skips loudly (or fails with REQUIRE_REDIS_SENTINEL) when not. */
export function haveSentinelTools(t: TestContext): boolean {
  if (redisServerBinary() !== undefined && redisSentinelBinary() !== undefined) return true;
  skipWithoutTool(t, "REQUIRE_REDIS_SENTINEL", "redis-server and redis-sentinel are needed (Debian: redis-sentinel)");
  return false;
}

export async function startSentinelGroup(): Promise<SentinelGroup> {
  const sentinelBinary = redisSentinelBinary();
  if (sentinelBinary === undefined) throw new Error("redis-sentinel is not on PATH");
  const servers: RedisServer[] = [];
  const primary = await startRedisServer();
  servers.push(primary);
  servers.push(await startRedisServer({ args: ["--replicaof", LOOPBACK, String(primary.port)] }));
  const sentinels: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    sentinels.push(
      await startRedisServer({
        binary: sentinelBinary,
        configText: [
          `sentinel monitor ${SENTINEL_MASTER_NAME} ${LOOPBACK} ${primary.port} 2`,
          // Not less: on a loaded machine a slower PING made the Sentinels fail over a live primary,
          // whose last writes then never reached its replica.
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 3000`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          "",
        ].join("\n"),
        args: ["--sentinel"],
      }),
    );
  }
  const asker = new Redis({
    host: LOOPBACK,
    port: sentinels[0]?.port ?? 0,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  const masterPort = async (): Promise<number> => {
    const reply = (await asker.call("SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER_NAME)) as string[] | null;
    if (reply?.[1] === undefined) throw new Error("the Sentinels name no master");
    return Number(reply[1]);
  };

  return {
    sentinelsEnv: sentinels.map((s) => `${s.host}:${s.port}`).join(","),
    masterPort,
    async failOver(timeoutMs = 30_000) {
      const started = performance.now();
      const from = await masterPort();
      const old = servers.find((server) => server.port === from && server.running());
      if (old === undefined) throw new Error(`no running primary on port ${from}`);
      old.kill("SIGKILL");
      for (;;) {
        await sleep(100);
        const to = await masterPort().catch(() => from);
        if (to !== from) {
          // The dead primary stays down (it would come back empty); a fresh replica takes its place.
          servers.push(await startRedisServer({ args: ["--replicaof", LOOPBACK, String(to)] }));
          return { from, to, tookMs: Math.round(performance.now() - started) };
        }
        if (performance.now() - started > timeoutMs)
          throw new Error(`the Sentinels did not fail over from ${from} within ${timeoutMs} ms`);
      }
    },
    async close() {
      asker.disconnect();
      for (const server of [...sentinels, ...servers]) await server.close();
    },
  };
}
