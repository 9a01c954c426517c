// Builds the idempotency guard and its store from configuration: the memory
// store, or Redis standalone, Sentinel or Cluster (redis-idempotency.ts,
// imported only then, so start-up on the memory store never loads ioredis).
import type { IdempotencyConfig } from "./config.js";
import { createIdempotencyGuard } from "./guard-machine.js";
import type { SettlingIdempotencyGuard } from "./guard-machine.js";
import { createMemoryIdempotencyStore } from "./memory-store.js";
import { guardOptionsOf } from "./wiring.js";
import type { Idempotency, IdempotencyDeps } from "./wiring.js";

export type { Idempotency, IdempotencyDeps } from "./wiring.js";

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
