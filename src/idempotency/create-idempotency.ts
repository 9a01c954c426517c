// Builds the idempotency guard and its store from configuration: the memory
// store, or ioredis to Redis standalone, Sentinel or Cluster. ioredis is set
// up to fail fast, never to queue: a call that cannot reach Redis fails
// closed at once (UNAVAILABLE) instead of hanging, and reconnection goes on
// in the background so the gateway recovers when Redis returns, without a
// restart. Start-up does not wait for Redis either.
import { Cluster, Redis } from "ioredis";
import type { ClusterOptions, RedisOptions } from "ioredis";
import type { HandlerContext } from "@connectrpc/connect";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { HostPort, IdempotencyConfig, RedisConfig } from "./config.js";
import type { IdempotencyGuard } from "./guard.js";
import { createIdempotencyGuard } from "./idempotency-guard.js";
import { createMemoryIdempotencyStore } from "./memory-store.js";
import { redactCredentials } from "./redact-credentials.js";
import { createRedisIdempotencyStore } from "./redis-store.js";
import type { IdempotencyStore } from "./store.js";

export interface IdempotencyDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The caller identity that scopes tokens; default: the x-caller-id header. */
  readonly identify?: ((context: HandlerContext) => string) | undefined;
}

export interface Idempotency {
  readonly guard: IdempotencyGuard;
  readonly store: IdempotencyStore;
  /** The Redis client, for others that share the store's Redis (the per-caller rate limit); undefined with the memory store. */
  readonly redis?: Redis | Cluster | undefined;
  close(): Promise<void>;
}

/** Reconnect backoff: doubling from 100 ms, capped at 2 s, and never giving up. */
const MAX_RECONNECT_DELAY_MS = 2_000;
const reconnectDelay = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 5), MAX_RECONNECT_DELAY_MS);

export async function createIdempotency(config: IdempotencyConfig, deps: IdempotencyDeps): Promise<Idempotency> {
  const { clock, logger } = deps;
  const limits = { ttlMs: config.ttlMs, leaseMs: config.leaseMs, maxWaitMs: config.maxWaitMs, identify: deps.identify };
  if (config.store === "memory") {
    if (config.ignoredRedisVariables.length > 0) {
      logger.warn("Redis variables are set but IDEMPOTENCY_STORE=memory: tokens are not shared between replicas", {
        ignored: config.ignoredRedisVariables,
      });
    }
    const store = createMemoryIdempotencyStore({ clock });
    return { guard: createIdempotencyGuard({ store, clock, logger, ...limits }), store, close: async () => {} };
  }
  const client = createRedisClient(config.redis, logger);
  await firstConnectionAttempt(client, config.redis.connectTimeoutMs);
  const store = createRedisIdempotencyStore(client);
  const guard = createIdempotencyGuard({
    store,
    clock,
    logger,
    ...limits,
    // One command plus, at most, a script load after NOSCRIPT.
    storeTimeoutMs: config.redis.commandTimeoutMs * 2 + 100,
  });
  return {
    guard,
    store,
    redis: client,
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

/** What to hand to ioredis for one configuration: a `Redis` (standalone, Sentinel) or a `Cluster`. */
export type RedisClientSpec =
  | { readonly shape: "standalone"; readonly url: string; readonly options: RedisOptions; readonly target: string }
  | { readonly shape: "sentinel"; readonly options: RedisOptions; readonly target: string }
  | {
      readonly shape: "cluster";
      readonly nodes: readonly HostPort[];
      readonly options: ClusterOptions;
      readonly target: string;
    };

/** The ioredis options for `config`: fail fast, never queue, never resend. Pure, so tests can read them. */
export function redisClientSpec(config: RedisConfig): RedisClientSpec {
  const credentials = {
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
  };
  const failFast: RedisOptions = {
    // Connect now, in the background; until ready, commands fail at once.
    lazyConnect: false,
    enableOfflineQueue: false,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    // A command whose reply was lost is not sent again after a reconnect:
    // by then the guard may have given up on it (and released its claim),
    // and a late claim would hold the token for nobody until its lease ends.
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    // A failed-over master turned replica answers READONLY: reconnect, and
    // (Sentinel) find the new master; the failing call itself is not resent.
    reconnectOnError: (error) => error.message.startsWith("READONLY"),
    ...credentials,
  };
  const tls = config.tls ? { tls: {} } : {};
  const { connection } = config;
  switch (connection.shape) {
    case "standalone":
      return { shape: "standalone", url: connection.url, options: failFast, target: redactCredentials(connection.url) };
    case "sentinel":
      return {
        shape: "sentinel",
        options: {
          ...failFast,
          ...tls,
          // Without enableTLSForSentinelMode ioredis connects to the master
          // the Sentinels name in plain text, even with `tls` set; sentinelTLS
          // is for the Sentinels themselves.
          ...(config.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
          sentinels: connection.sentinels.map(({ host, port }) => ({ host, port })),
          name: connection.masterName,
          ...(config.sentinelPassword === undefined ? {} : { sentinelPassword: config.sentinelPassword }),
          sentinelRetryStrategy: reconnectDelay,
        },
        target: `sentinel master ${connection.masterName}`,
      };
    case "cluster":
      return {
        shape: "cluster",
        nodes: connection.nodes.map(({ host, port }) => ({ host, port })),
        options: {
          enableOfflineQueue: false,
          lazyConnect: false,
          clusterRetryStrategy: reconnectDelay,
          slotsRefreshTimeout: config.connectTimeoutMs,
          redisOptions: { ...failFast, ...tls },
        },
        target: `cluster ${connection.nodes.map(({ host, port }) => `${host}:${port}`).join(",")}`,
      };
  }
}

/** An ioredis client (Redis or Cluster) that fails fast and logs state changes. */
export function createRedisClient(config: RedisConfig, logger: Logger): Redis | Cluster {
  const spec = redisClientSpec(config);
  let client: Redis | Cluster;
  switch (spec.shape) {
    case "standalone":
      client = new Redis(spec.url, spec.options);
      break;
    case "sentinel":
      client = new Redis(spec.options);
      break;
    case "cluster":
      client = new Cluster(
        spec.nodes.map(({ host, port }) => ({ host, port })),
        spec.options,
      );
      break;
  }
  watchConnection(client, spec.target, logger);
  return client;
}

/**
 * Waits for the first connection attempt to end, either way, bounded by the
 * connect timeout: calls made right after start-up then find Redis ready when
 * it is up, and start-up never hangs when it is down.
 */
async function firstConnectionAttempt(client: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      client.off("ready", done);
      client.off("error", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once("ready", done);
    client.once("error", done);
  });
}

/** Logs transitions (connected, lost, first error of an outage), not every retry. */
function watchConnection(client: Redis | Cluster, target: string, logger: Logger): void {
  let ready = false;
  let errorLogged = false;
  logger.info("connecting to Redis for idempotency", { target });
  client.on("ready", () => {
    if (!ready) logger.info("Redis connection ready", { target });
    ready = true;
    errorLogged = false;
  });
  client.on("close", () => {
    if (!ready) return;
    ready = false;
    logger.warn("Redis connection lost; calls with a token fail with UNAVAILABLE until it returns", { target });
  });
  // Without an "error" listener ioredis prints every failed attempt itself.
  client.on("error", (error: Error) => {
    if (errorLogged) return;
    errorLogged = true;
    logger.warn("Redis unreachable; reconnecting in the background", { target, error });
  });
}
