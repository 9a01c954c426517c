// Idempotency on Redis: the ioredis client (fail fast, scripts preloaded),
// the Redis store and the guard, readiness by PING, and a close that lets
// the guard's last writes land before the connection goes.
import type { Cluster, Redis } from "ioredis";
import type { IdempotencyConfig } from "./config.js";
import type { Idempotency, IdempotencyDeps } from "./create-idempotency.js";
import { guardOptionsOf } from "./create-idempotency.js";
import { createIdempotencyGuard } from "./idempotency-guard.js";
import { redactedError } from "./redact-credentials.js";
import { createRedisClient, firstConnectionAttempt } from "./redis-client.js";
import { redisClientSpec, secretsOf } from "./redis-client-spec.js";
import { createRedisIdempotencyStore } from "./redis-store.js";

/** Slack over the command timeout for the event loop, and for EVAL right after a NOSCRIPT answer. */
const STORE_TIMEOUT_SLACK_MS = 100;

export async function createRedisIdempotency(
  config: IdempotencyConfig & { readonly store: "redis" },
  deps: IdempotencyDeps,
): Promise<Idempotency> {
  const client = createRedisClient(config.redis, deps.logger);
  await firstConnectionAttempt(client, config.redis.connectTimeoutMs);
  const store = createRedisIdempotencyStore(client);
  const guard = createIdempotencyGuard({
    store,
    ...guardOptionsOf(config, deps),
    storeTimeoutMs: config.redis.commandTimeoutMs + STORE_TIMEOUT_SLACK_MS,
  });
  const target = redisClientSpec(config.redis).target;
  const secrets = secretsOf(config.redis);
  return {
    guard,
    store,
    redis: client,
    checkReady: async (signal) => {
      try {
        await pingEveryMaster(client, config.redis.commandTimeoutMs, signal);
        return { ready: true };
      } catch (error) {
        return { ready: false, detail: `Redis ${target}: ${redactedError(error, secrets).message}` };
      }
    },
    async close() {
      await guard.settle(config.leaseMs);
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

/** Rejects unless the client is connected and every master answers PING within `timeoutMs`. */
async function pingEveryMaster(client: Redis | Cluster, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  if (client.status !== "ready") throw new Error(`not connected (${client.status})`);
  const nodes = client.isCluster ? (client as Cluster).nodes("master") : [client as Redis];
  if (nodes.length === 0) throw new Error("no master known");
  const checks: Promise<unknown>[] = nodes.map((node) => node.ping());
  if (client.isCluster) {
    // A dead master fails every slot when cluster-require-full-coverage is yes.
    checks.push(
      (client as Cluster).cluster("INFO").then((info) => {
        if (!String(info).includes("cluster_state:ok")) throw new Error("cluster_state is not ok");
      }),
    );
  }
  await bounded(Promise.all(checks), timeoutMs, signal);
}

async function bounded<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PING took longer than ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener("abort", () => reject(new Error("readiness check aborted")), { once: true });
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
