// Health settings from the environment: how often readiness is probed and
// how long a probe may take. Pure: main.ts passes its env in.
import { SECTIONS, defaultsOf, helpOf, integer, read, setting, type Env, type EnvHelp } from "../config-values.js";

export interface HealthConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** grpc.health.v1.Health/Watch streams open at once, at most. */
  readonly maxWatchStreams: number;
}

export const HEALTH_SETTINGS = {
  intervalMs: setting({
    name: "HEALTH_CHECK_INTERVAL_MS",
    section: SECTIONS.observability,
    ...integer(100, 600_000),
    default: 5_000,
    help: "Time between two rounds of readiness probes (idempotency store, backend).",
  }),
  timeoutMs: setting({
    name: "HEALTH_CHECK_TIMEOUT_MS",
    section: SECTIONS.observability,
    ...integer(10, 60_000),
    default: 1_000,
    help: "A readiness probe slower than this counts as failed.",
  }),
  maxWatchStreams: setting({
    name: "HEALTH_MAX_WATCH_STREAMS",
    section: SECTIONS.observability,
    ...integer(1, 100_000),
    default: 100,
    help: "Open grpc.health.v1.Health/Watch streams at most (health skips MAX_IN_FLIGHT_CALLS and authentication); a new one past it is RESOURCE_EXHAUSTED.",
  }),
};

/** What a health state started without configuration uses. */
export const HEALTH_DEFAULTS: HealthConfig = defaultsOf(HEALTH_SETTINGS);

export const HEALTH_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(HEALTH_SETTINGS));

export function parseHealthConfig(env: Env): HealthConfig {
  return {
    intervalMs: read(env, HEALTH_SETTINGS.intervalMs),
    timeoutMs: read(env, HEALTH_SETTINGS.timeoutMs),
    maxWatchStreams: read(env, HEALTH_SETTINGS.maxWatchStreams),
  };
}
