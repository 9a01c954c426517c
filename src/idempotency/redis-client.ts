// The ioredis client itself: built from redisClientSpec, with its state
// changes logged and every script loaded on each (re)connect. Only
// redis-idempotency.ts imports this module, and only when
// IDEMPOTENCY_STORE=redis, so ioredis is never loaded otherwise.
import { Cluster, Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { RedisConfig } from "./config.js";
import { redactedError } from "./redact-credentials.js";
import { redisClientSpec, secretsOf } from "./redis-client-spec.js";
import { preloadScriptsOnConnect } from "./redis-script-preload.js";

/** An ioredis client (Redis or Cluster) that fails fast, logs state changes and preloads the scripts. */
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
  watchConnection(client, spec.target, secretsOf(config), logger);
  preloadScriptsOnConnect(client, logger);
  return client;
}

/**
 * Waits for the first connection attempt to end, either way, bounded by the
 * connect timeout: calls made right after start-up then find Redis ready when
 * it is up, and start-up never hangs when it is down.
 */
export async function firstConnectionAttempt(client: Redis | Cluster, timeoutMs: number): Promise<void> {
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
function watchConnection(client: Redis | Cluster, target: string, secrets: readonly string[], logger: Logger): void {
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
    logger.warn("Redis unreachable; reconnecting in the background", { target, error: redactedError(error, secrets) });
  });
}
