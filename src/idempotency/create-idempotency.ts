// Builds the idempotency guard and its store from configuration: the memory
// store, or Redis standalone, Sentinel or Cluster (redis-idempotency.ts,
// imported only then, so start-up on the memory store never loads ioredis).
import type { HandlerContext } from "@connectrpc/connect";
import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../clock.js";
import type { Logger } from "../logger.js";
import type { IdempotencyConfig } from "./config.js";
import type { IdempotencyGuard, IdempotencyObserver } from "./guard.js";
import { createIdempotencyGuard } from "./idempotency-guard.js";
import type { IdempotencyGuardOptions, SettlingIdempotencyGuard } from "./idempotency-guard.js";
import { createMemoryIdempotencyStore } from "./memory-store.js";
import type { IdempotencyStore } from "./store.js";

export interface IdempotencyDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Metrics hooks (outcomes, store command latency); none by default. */
  readonly observer?: IdempotencyObserver | undefined;
  /** The caller identity that scopes tokens; default: the x-caller-id header. */
  readonly identify?: ((context: HandlerContext) => string) | undefined;
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not, for /readyz and the logs; never holds a credential. */
  readonly detail?: string;
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

export async function createIdempotency(config: IdempotencyConfig, deps: IdempotencyDeps): Promise<Idempotency> {
  if (config.store === "redis") {
    const { createRedisIdempotency } = await import("./redis-idempotency.js");
    return createRedisIdempotency(config, deps);
  }
  const store = createMemoryIdempotencyStore({ clock: deps.clock });
  const guard: SettlingIdempotencyGuard = createIdempotencyGuard({ store, ...guardOptionsOf(config, deps) });
  return {
    guard,
    store,
    redis: undefined,
    checkReady: async () => ({ ready: true }),
    async close() {
      await guard.settle(config.leaseMs);
    },
  };
}
