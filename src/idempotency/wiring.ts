// What the two wirings (create-idempotency.ts for the memory store,
// redis-idempotency.ts for Redis) share: the component they return, what it
// needs, and the guard options taken from configuration. Its own module so
// that the Redis wiring, loaded lazily by create-idempotency.ts, does not
// import back the module that loads it.
import type { HandlerContext } from "@connectrpc/connect";
import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { IdempotencyConfig } from "./config.js";
import type { IdempotencyGuardOptions } from "./guard-machine.js";
import type { IdempotencyGuard, IdempotencyObserver } from "./guard-port.js";
import type { IdempotencyStore } from "./store.js";
import type { Readiness } from "../health/readiness.js";

export interface IdempotencyDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Metrics hooks (outcomes, store command latency); none by default. */
  readonly observer?: IdempotencyObserver | undefined;
  /** The caller identity that scopes tokens; default: the x-caller-id header. */
  readonly identify?: ((context: HandlerContext) => string) | undefined;
}

export interface Idempotency {
  readonly guard: IdempotencyGuard;
  readonly store: IdempotencyStore;
  /** The ioredis client, to share (e.g. with a rate limiter); undefined with the memory store. */
  readonly redis: Redis | Cluster | undefined;
  /** Memory: always ready. Redis: connected, and PING answers within the command timeout (a Cluster: and its state is ok). */
  checkReady(signal?: AbortSignal): Promise<Readiness>;
  /**
   * Waits (at most one lease) for the store writes of calls that ended,
   * among them the releases of calls cut by shutdown, then closes Redis.
   * Call it after the server's handlers have returned.
   */
  close(): Promise<void>;
}

/** The guard options every store shares. */
export function guardOptionsOf(
  config: IdempotencyConfig,
  deps: IdempotencyDeps,
): Omit<IdempotencyGuardOptions, "store"> {
  return {
    clock: deps.clock,
    logger: deps.logger,
    ttlMs: config.ttlMs,
    leaseMs: config.leaseMs,
    maxExecutionMs: config.maxExecutionMs,
    maxWaitMs: config.maxWaitMs,
    pollMinMs: config.pollMinMs,
    pollMaxMs: config.pollMaxMs,
    observer: deps.observer,
    identify: deps.identify,
  };
}
