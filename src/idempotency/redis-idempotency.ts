// Idempotency on Redis: the ioredis client (fail fast, scripts preloaded),
// the Redis store and the guard, readiness by PING, and a close that lets
// the guard's last writes land before the connection goes.
import type { Cluster, Redis } from "ioredis";
import type { IdempotencyConfig } from "./config.js";
import type { Idempotency, IdempotencyDeps } from "./wiring.js";
import { guardOptionsOf } from "./wiring.js";
import { createIdempotencyGuard } from "./guard-machine.js";
import { redactedError } from "./redact-credentials.js";
import { createRedisClient, firstConnectionAttempt } from "./redis-client.js";
import { redisClientSpec, secretsOf } from "./redis-client-spec.js";
import { createRedisIdempotencyStore } from "./redis-store.js";
import { withTimeout } from "../util/with-timeout.js";

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
        await pingRedis(client, config.redis.commandTimeoutMs, signal);
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

/**
 * Rejects unless the client is connected and Redis answers PING within
 * `timeoutMs`. A Cluster must also call itself ok (a dead master with
 * cluster-require-full-coverage yes fails every slot); with it set to no,
 * the other masters still serve their slots, so one answering is enough.
 */
async function pingRedis(client: Redis | Cluster, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  if (client.status !== "ready") throw new Error(`not connected (${client.status})`);
  if (!client.isCluster) {
    await bounded((client as Redis).ping(), timeoutMs, signal);
    return;
  }
  const masters = (client as Cluster).nodes("master");
  if (masters.length === 0) throw new Error("no master known");
  const stateOf = async (node: Redis): Promise<void> => {
    await node.ping();
    const info = String(await node.cluster("INFO"));
    if (!info.includes("cluster_state:ok")) throw new Error("cluster_state is not ok");
  };
  try {
    await bounded(Promise.any(masters.map(stateOf)), timeoutMs, signal);
  } catch (error) {
    throw error instanceof AggregateError ? (error.errors[0] ?? error) : error;
  }
}

function bounded<T>(work: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener("abort", () => reject(new Error("readiness check aborted")), { once: true });
  });
  return withTimeout(Promise.race([work, aborted]), timeoutMs, () => {
    throw new Error(`PING took longer than ${timeoutMs} ms`);
  });
}
