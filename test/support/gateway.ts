// Starts a real gateway on 127.0.0.1:0 with the fake backend and the
// in-memory idempotency store, for tests that talk to it over the network.
import { systemClock, type Clock } from "../../src/clock.js";
import type { PermissionBackend } from "../../src/backend/backend.js";
import { createFakeBackend, type FakeBackend } from "../../src/backend/fake/fake-backend.js";
import { createIdempotencyGuard } from "../../src/idempotency/guard-machine.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import type { IdempotencyGuard } from "../../src/idempotency/guard-port.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { startServer, type ListenOptions, type RunningServer } from "../../src/server.js";

export interface TestGateway<B extends PermissionBackend = FakeBackend> extends RunningServer {
  readonly backend: B;
}

export interface TestGatewayOptions<B extends PermissionBackend> {
  readonly backend?: B;
  readonly idempotency?: IdempotencyGuard;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Server options besides host and port (limits, grace, ...). */
  readonly listen?: Omit<ListenOptions, "host" | "port">;
  /** Browser origins the gateway lets call it (CORS_ALLOWED_ORIGINS). */
  readonly corsAllowedOrigins?: readonly string[];
}

export function memoryGuard(clock: Clock = systemClock, logger: Logger = silentLogger): IdempotencyGuard {
  return createIdempotencyGuard({
    store: createMemoryIdempotencyStore({ clock }),
    clock,
    logger,
    ttlMs: 24 * 60 * 60 * 1000,
    leaseMs: 30_000,
    maxWaitMs: 5_000,
  });
}

export async function startTestGateway<B extends PermissionBackend = FakeBackend>(
  options: TestGatewayOptions<B> = {},
): Promise<TestGateway<B>> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const backend = (options.backend ?? createFakeBackend({ clock })) as B;
  const server = await startServer(
    { backend, idempotency: options.idempotency ?? memoryGuard(clock, logger), logger, clock },
    { ...options.listen, host: "127.0.0.1", port: 0, corsAllowedOrigins: options.corsAllowedOrigins },
  );
  return {
    url: server.url,
    port: server.port,
    backend,
    inFlight: () => server.inFlight(),
    async close() {
      const report = await server.close();
      await backend.close();
      return report;
    },
  };
}
