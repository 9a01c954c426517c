// Idempotency settings from the environment: which store, how to reach
// Redis (standalone, Sentinel or Cluster: one shape, by configuration only),
// the TTL, the lease and execution bounds, and how duplicates wait. Pure:
// main.ts passes its env in.
import { ConfigError, readBoolean, readEnum, readHostPorts, readInteger, readString } from "../config-values.js";
import type { Env } from "../config-values.js";
import { redactCredentials } from "./redact-credentials.js";
import type { EnvHelp } from "../config-values.js";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type RedisConnectionConfig =
  | { readonly shape: "standalone"; readonly url: string }
  | { readonly shape: "sentinel"; readonly sentinels: readonly HostPort[]; readonly masterName: string }
  | { readonly shape: "cluster"; readonly nodes: readonly HostPort[] };

export interface RedisConfig {
  readonly connection: RedisConnectionConfig;
  /** Override what a URL carries; the only credentials for Sentinel and Cluster. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Password of the Sentinels themselves, when they require one. */
  readonly sentinelPassword?: string | undefined;
  /** TLS to the Sentinels, their masters and Cluster nodes (standalone: use rediss://). */
  readonly tls: boolean;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

interface IdempotencyLimits {
  /** Lifetime of a completed record. */
  readonly ttlMs: number;
  /** A claim's lease, renewed every third of it while the call runs. */
  readonly leaseMs: number;
  /** Longest the owner's backend call may run (within the caller's deadline). */
  readonly maxExecutionMs: number;
  /** Longest an in-flight duplicate waits for the owner's outcome. */
  readonly maxWaitMs: number;
  /** Polls of an owner on another replica: first delay and cap (doubling, with jitter). */
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
}

export type IdempotencyConfig =
  | (IdempotencyLimits & {
      readonly store: "memory";
      /** Redis variables that were set but mean nothing with the memory store. */
      readonly ignoredRedisVariables: readonly string[];
    })
  | (IdempotencyLimits & { readonly store: "redis"; readonly redis: RedisConfig });

export const IDEMPOTENCY_ENV_HELP: readonly EnvHelp[] = [
  {
    name: "IDEMPOTENCY_STORE",
    accepted: "memory | redis",
    default: "memory",
    description: "Where idempotency records live. memory: this process only; redis: shared by all replicas.",
  },
  {
    name: "REDIS_URL",
    accepted: "redis://[user:password@]host[:port][/db] (port 6379 when left out) or rediss://...",
    default: "(none)",
    description: "Standalone Redis. Set exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES.",
  },
  {
    name: "REDIS_SENTINELS",
    accepted: "host:port,host:port,...",
    default: "(none)",
    description: "Sentinel addresses; the gateway follows the master they name. Needs REDIS_SENTINEL_NAME.",
  },
  {
    name: "REDIS_SENTINEL_NAME",
    accepted: "a master name",
    default: "(none)",
    description: "The master name the Sentinels monitor (with REDIS_SENTINELS).",
  },
  {
    name: "REDIS_SENTINEL_PASSWORD",
    accepted: "a string",
    default: "(none)",
    description: "Password of the Sentinels themselves, when they require one.",
  },
  {
    name: "REDIS_CLUSTER_NODES",
    accepted: "host:port,host:port,...",
    default: "(none)",
    description: "Seed nodes of a Redis Cluster; the rest of the topology is discovered.",
  },
  {
    name: "REDIS_USERNAME",
    accepted: "an ACL user name",
    default: "(none)",
    description: "Redis ACL user (overrides one in REDIS_URL).",
  },
  {
    name: "REDIS_PASSWORD",
    accepted: "a string",
    default: "(none)",
    description: "Redis password (overrides one in REDIS_URL).",
  },
  {
    name: "REDIS_TLS",
    accepted: "true | false",
    default: "false",
    description: "TLS to the Sentinels and the masters they name, and to Cluster nodes (standalone: use rediss://).",
  },
  {
    name: "REDIS_COMMAND_TIMEOUT_MS",
    accepted: "10..60000",
    default: "500",
    description: "A Redis command slower than this fails; the call then fails closed with UNAVAILABLE.",
  },
  {
    name: "REDIS_CONNECT_TIMEOUT_MS",
    accepted: "100..60000",
    default: "2000",
    description: "Timeout of one connection attempt; reconnection keeps going in the background.",
  },
  {
    name: "IDEMPOTENCY_TTL_SECONDS",
    accepted: "1..2592000",
    default: "86400",
    description: "How long a completed token is remembered and replayed.",
  },
  {
    name: "IDEMPOTENCY_LEASE_SECONDS",
    accepted: "1..3600 (redis: at least 3 x REDIS_COMMAND_TIMEOUT_MS)",
    default: "5",
    description:
      "Lease of a running call's token, renewed every third of it while the call runs; a crashed replica's tokens are free again within it.",
  },
  {
    name: "IDEMPOTENCY_MAX_EXECUTION_SECONDS",
    accepted: "1..3600",
    default: "30",
    description:
      "Longest a call with a token may run (within its own deadline); then it is cut, and a retry runs it again.",
  },
  {
    name: "IDEMPOTENCY_MAX_WAIT_MS",
    accepted: "0..300000",
    default: "5000",
    description: "How long a duplicate of a running call waits for its outcome (within its own deadline).",
  },
  {
    name: "IDEMPOTENCY_POLL_MIN_MS",
    accepted: "1..10000",
    default: "25",
    description:
      "First delay before a duplicate polls for the outcome of a call running on another replica; it doubles, with jitter, up to IDEMPOTENCY_POLL_MAX_MS. Duplicates on the same replica are woken without polling.",
  },
  {
    name: "IDEMPOTENCY_POLL_MAX_MS",
    accepted: "1..60000 (>= IDEMPOTENCY_POLL_MIN_MS)",
    default: "1000",
    description: "Longest delay between two such polls.",
  },
];

const REDIS_VARIABLES = [
  "REDIS_URL",
  "REDIS_SENTINELS",
  "REDIS_SENTINEL_NAME",
  "REDIS_SENTINEL_PASSWORD",
  "REDIS_CLUSTER_NODES",
  "REDIS_USERNAME",
  "REDIS_PASSWORD",
  "REDIS_TLS",
  "REDIS_COMMAND_TIMEOUT_MS",
  "REDIS_CONNECT_TIMEOUT_MS",
] as const;

/** A renewal (every third of the lease) must fit at least one Redis command timeout. */
const LEASE_COMMAND_TIMEOUTS = 3;

const SHAPE_VARIABLES = ["REDIS_URL", "REDIS_SENTINELS", "REDIS_CLUSTER_NODES"] as const;

export function parseIdempotencyConfig(env: Env): IdempotencyConfig {
  const store = readEnum(env, "IDEMPOTENCY_STORE", ["memory", "redis"] as const, "memory");
  const pollMinMs = readInteger(env, "IDEMPOTENCY_POLL_MIN_MS", 1, 10_000, 25);
  const limits: IdempotencyLimits = {
    ttlMs: readInteger(env, "IDEMPOTENCY_TTL_SECONDS", 1, 2_592_000, 86_400) * 1000,
    leaseMs: readInteger(env, "IDEMPOTENCY_LEASE_SECONDS", 1, 3_600, 5) * 1000,
    maxExecutionMs: readInteger(env, "IDEMPOTENCY_MAX_EXECUTION_SECONDS", 1, 3_600, 30) * 1000,
    maxWaitMs: readInteger(env, "IDEMPOTENCY_MAX_WAIT_MS", 0, 300_000, 5_000),
    pollMinMs,
    pollMaxMs: readInteger(env, "IDEMPOTENCY_POLL_MAX_MS", pollMinMs, 60_000, Math.max(pollMinMs, 1_000)),
  };
  if (store === "memory") {
    return {
      ...limits,
      store,
      ignoredRedisVariables: REDIS_VARIABLES.filter((name) => readString(env, name) !== undefined),
    };
  }
  const redis = parseRedisConfig(env);
  const shortestLeaseMs = LEASE_COMMAND_TIMEOUTS * redis.commandTimeoutMs;
  if (limits.leaseMs < shortestLeaseMs) {
    throw new ConfigError(
      "IDEMPOTENCY_LEASE_SECONDS",
      `at least ${LEASE_COMMAND_TIMEOUTS} x REDIS_COMMAND_TIMEOUT_MS (${shortestLeaseMs} ms), so a renewal fits in a third of the lease`,
      String(limits.leaseMs / 1000),
    );
  }
  return { ...limits, store, redis };
}

function parseRedisConfig(env: Env): RedisConfig {
  return {
    connection: parseConnection(env),
    username: readString(env, "REDIS_USERNAME"),
    password: readString(env, "REDIS_PASSWORD"),
    sentinelPassword: readString(env, "REDIS_SENTINEL_PASSWORD"),
    tls: readBoolean(env, "REDIS_TLS", false),
    commandTimeoutMs: readInteger(env, "REDIS_COMMAND_TIMEOUT_MS", 10, 60_000, 500),
    connectTimeoutMs: readInteger(env, "REDIS_CONNECT_TIMEOUT_MS", 100, 60_000, 2_000),
  };
}

function parseConnection(env: Env): RedisConnectionConfig {
  const given = SHAPE_VARIABLES.filter((name) => readString(env, name) !== undefined);
  const onlyOne = "exactly one of REDIS_URL, REDIS_SENTINELS (with REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES";
  if (given.length === 0) throw new ConfigError("IDEMPOTENCY_STORE", `memory, or redis with ${onlyOne}`, "redis");
  if (given.length > 1) {
    const values = given.map((name) => `${name}=${redactCredentials(readString(env, name) ?? "")}`);
    throw new ConfigError(given.join("+"), onlyOne, values.join(" "));
  }
  const url = readString(env, "REDIS_URL");
  if (url !== undefined) return { shape: "standalone", url: parseRedisUrl(url) };
  const sentinels = readHostPorts(env, "REDIS_SENTINELS");
  if (sentinels !== undefined) {
    const masterName = readString(env, "REDIS_SENTINEL_NAME");
    if (masterName === undefined) {
      throw new ConfigError(
        "REDIS_SENTINEL_NAME",
        "the master name the Sentinels monitor (required with REDIS_SENTINELS)",
        "",
      );
    }
    return { shape: "sentinel", sentinels, masterName };
  }
  const nodes = readHostPorts(env, "REDIS_CLUSTER_NODES") ?? [];
  return { shape: "cluster", nodes };
}

function parseRedisUrl(value: string): string {
  const invalid = () =>
    new ConfigError("REDIS_URL", "redis://[user:password@]host[:port][/db] or rediss://...", redactCredentials(value));
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid();
  }
  if ((url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") throw invalid();
  if (url.pathname !== "" && url.pathname !== "/" && !/^\/\d+$/.test(url.pathname)) throw invalid();
  return value;
}
