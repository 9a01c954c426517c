// Health settings from the environment: how often readiness is probed and
// how long a probe may take. Pure: main.ts passes its env in.
import { SECTIONS, defaultsOf, helpOf, integer, read, setting, type Env, type EnvHelp } from "../config-values.js";

export interface HealthConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
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
};

/** What a health state started without configuration uses. */
export const HEALTH_DEFAULTS: HealthConfig = defaultsOf(HEALTH_SETTINGS);

export const HEALTH_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(HEALTH_SETTINGS));

export function parseHealthConfig(env: Env): HealthConfig {
  return { intervalMs: read(env, HEALTH_SETTINGS.intervalMs), timeoutMs: read(env, HEALTH_SETTINGS.timeoutMs) };
}
