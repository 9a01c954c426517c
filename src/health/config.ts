// Health settings from the environment: how often readiness is probed and
// how long a probe may take. Pure: main.ts passes its env in.
import type { EnvHelp } from "../config-values.js";
import { readInteger, type Env } from "../config-values.js";

export interface HealthConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** grpc.health.v1.Health/Watch streams open at once, at most. */
  readonly maxWatchStreams: number;
}

export const HEALTH_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "HEALTH_CHECK_INTERVAL_MS",
    accepted: "100..600000",
    default: "5000",
    description: "Time between two rounds of readiness probes (idempotency store, backend).",
  },
  {
    name: "HEALTH_CHECK_TIMEOUT_MS",
    accepted: "10..60000",
    default: "1000",
    description: "A readiness probe slower than this counts as failed.",
  },
  {
    name: "HEALTH_MAX_WATCH_STREAMS",
    accepted: "1..100000",
    default: "100",
    description:
      "Open grpc.health.v1.Health/Watch streams at most (health skips MAX_IN_FLIGHT_CALLS and authentication); a new one past it is RESOURCE_EXHAUSTED.",
  },
];

export function parseHealthConfig(env: Env): HealthConfig {
  return {
    intervalMs: readInteger(env, "HEALTH_CHECK_INTERVAL_MS", 100, 600_000, 5_000),
    timeoutMs: readInteger(env, "HEALTH_CHECK_TIMEOUT_MS", 10, 60_000, 1_000),
    maxWatchStreams: readInteger(env, "HEALTH_MAX_WATCH_STREAMS", 1, 100_000, 100),
  };
}
