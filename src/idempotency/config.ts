// Idempotency settings from the environment: which store, how to reach
// Redis (standalone, Sentinel or Cluster: one shape, by configuration only),
// the TTL, the lease and execution bounds, and how duplicates wait. Pure:
// main.ts passes its env in.
import {
  ConfigError,
  INVALID,
  SECTIONS,
  boolean,
  helpOf,
  integer,
  list,
  oneOf,
  read,
  readRequired,
  readString,
  setting,
  text,
  type Env,
  type EnvHelp,
  type Kind,
} from "../config-values.js";
import { redactCredentials } from "./redact-credentials.js";

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
  | (IdempotencyLimits & { readonly store: "memory" })
  | (IdempotencyLimits & { readonly store: "redis"; readonly redis: RedisConfig });

/** A renewal (every third of the lease) must fit at least one Redis command timeout. */
const LEASE_COMMAND_TIMEOUTS = 3;

const section = SECTIONS.idempotency;
const onlyRedis = [{ variable: "IDEMPOTENCY_STORE", in: ["redis"] }];

/** A comma-separated list of host:port pairs. */
function hostPorts(): Kind<HostPort[]> {
  return list("a comma-separated list of host:port (e.g. 10.0.0.1:7000,10.0.0.2:7000)", (item) => {
    const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    return !match?.[1] || port < 1 || port > 65535 ? INVALID : { host: match[1], port };
  });
}

export const IDEMPOTENCY_SETTINGS = {
  store: setting({
    name: "IDEMPOTENCY_STORE",
    section,
    ...oneOf(["memory", "redis"] as const),
    default: "memory",
    help: "Where idempotency records live. memory: this process only; redis: shared by all replicas.",
  }),
  redisUrl: setting({
    name: "REDIS_URL",
    section,
    ...text("redis://[user:password@]host[:port][/db] (port 6379 when left out) or rediss://...", "url", isRedisUrl),
    redact: redactCredentials,
    help: "Standalone Redis. Set exactly one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES.",
    appliesWhen: onlyRedis,
  }),
  sentinels: setting({
    name: "REDIS_SENTINELS",
    section,
    ...hostPorts(),
    help: "Sentinel addresses; the gateway follows the master they name. Needs REDIS_SENTINEL_NAME.",
    appliesWhen: onlyRedis,
  }),
  sentinelName: setting({
    name: "REDIS_SENTINEL_NAME",
    section,
    ...text("the master name the Sentinels monitor"),
    help: "The master name the Sentinels monitor (with REDIS_SENTINELS).",
    appliesWhen: onlyRedis,
  }),
  sentinelPassword: setting({
    name: "REDIS_SENTINEL_PASSWORD",
    section,
    ...text("a string"),
    help: "Password of the Sentinels themselves, when they require one.",
    appliesWhen: onlyRedis,
  }),
  clusterNodes: setting({
    name: "REDIS_CLUSTER_NODES",
    section,
    ...hostPorts(),
    help: "Seed nodes of a Redis Cluster; the rest of the topology is discovered.",
    appliesWhen: onlyRedis,
  }),
  username: setting({
    name: "REDIS_USERNAME",
    section,
    ...text("an ACL user name"),
    help: "Redis ACL user (overrides one in REDIS_URL).",
    appliesWhen: onlyRedis,
  }),
  password: setting({
    name: "REDIS_PASSWORD",
    section,
    ...text("a string"),
    help: "Redis password (overrides one in REDIS_URL).",
    appliesWhen: onlyRedis,
  }),
  tls: setting({
    name: "REDIS_TLS",
    section,
    ...boolean,
    default: false,
    help: "TLS to the Sentinels and the masters they name, and to Cluster nodes (standalone: use rediss://).",
    appliesWhen: onlyRedis,
  }),
  commandTimeoutMs: setting({
    name: "REDIS_COMMAND_TIMEOUT_MS",
    section,
    ...integer(10, 60_000),
    default: 500,
    help: "A Redis command slower than this fails; the call then fails closed with UNAVAILABLE.",
    appliesWhen: onlyRedis,
  }),
  connectTimeoutMs: setting({
    name: "REDIS_CONNECT_TIMEOUT_MS",
    section,
    ...integer(100, 60_000),
    default: 2_000,
    help: "Timeout of one connection attempt; reconnection keeps going in the background.",
    appliesWhen: onlyRedis,
  }),
  ttlSeconds: setting({
    name: "IDEMPOTENCY_TTL_SECONDS",
    section,
    ...integer(1, 2_592_000),
    default: 86_400,
    help: "How long a completed token is remembered and replayed.",
  }),
  leaseSeconds: setting({
    name: "IDEMPOTENCY_LEASE_SECONDS",
    section,
    ...integer(1, 3_600, ` (redis: at least ${LEASE_COMMAND_TIMEOUTS} x REDIS_COMMAND_TIMEOUT_MS)`),
    default: 5,
    help: "Lease of a running call's token, renewed every third of it while the call runs; a crashed replica's tokens are free again within it.",
  }),
  maxExecutionSeconds: setting({
    name: "IDEMPOTENCY_MAX_EXECUTION_SECONDS",
    section,
    ...integer(1, 3_600),
    default: 30,
    help: "Longest a call with a token may run (within its own deadline); then it is cut, and a retry runs it again.",
  }),
  maxWaitMs: setting({
    name: "IDEMPOTENCY_MAX_WAIT_MS",
    section,
    ...integer(0, 300_000),
    default: 5_000,
    help: "How long a duplicate of a running call waits for its outcome (within its own deadline).",
  }),
  pollMinMs: setting({
    name: "IDEMPOTENCY_POLL_MIN_MS",
    section,
    ...integer(1, 10_000),
    default: 25,
    help: "First delay before a duplicate polls for the outcome of a call running on another replica; it doubles, with jitter, up to IDEMPOTENCY_POLL_MAX_MS. Duplicates on the same replica are woken without polling.",
  }),
  pollMaxMs: setting({
    name: "IDEMPOTENCY_POLL_MAX_MS",
    section,
    ...integer(1, 60_000, ", at least IDEMPOTENCY_POLL_MIN_MS"),
    default: 1_000,
    defaultText: "1000, or IDEMPOTENCY_POLL_MIN_MS when that is larger",
    help: "Longest delay between two such polls.",
  }),
};

export const IDEMPOTENCY_ENV_HELP: readonly EnvHelp[] = helpOf(Object.values(IDEMPOTENCY_SETTINGS));

const SHAPE_SETTINGS = [
  IDEMPOTENCY_SETTINGS.redisUrl,
  IDEMPOTENCY_SETTINGS.sentinels,
  IDEMPOTENCY_SETTINGS.clusterNodes,
] as const;

export function parseIdempotencyConfig(env: Env): IdempotencyConfig {
  const lines = IDEMPOTENCY_SETTINGS;
  const store = read(env, lines.store);
  const pollMinMs = read(env, lines.pollMinMs);
  const pollMaxGiven = read(env, { ...lines.pollMaxMs, default: undefined });
  if (pollMaxGiven !== undefined && pollMaxGiven < pollMinMs)
    throw new ConfigError(lines.pollMaxMs.name, `${lines.pollMaxMs.accepts} (${pollMinMs})`, String(pollMaxGiven));
  const limits: IdempotencyLimits = {
    ttlMs: read(env, lines.ttlSeconds) * 1000,
    leaseMs: read(env, lines.leaseSeconds) * 1000,
    maxExecutionMs: read(env, lines.maxExecutionSeconds) * 1000,
    maxWaitMs: read(env, lines.maxWaitMs),
    pollMinMs,
    pollMaxMs: pollMaxGiven ?? Math.max(pollMinMs, read(env, lines.pollMaxMs)),
  };
  if (store === "memory") return { ...limits, store };
  const redis = parseRedisConfig(env);
  const shortestLeaseMs = LEASE_COMMAND_TIMEOUTS * redis.commandTimeoutMs;
  if (limits.leaseMs < shortestLeaseMs) {
    throw new ConfigError(
      lines.leaseSeconds.name,
      `at least ${LEASE_COMMAND_TIMEOUTS} x REDIS_COMMAND_TIMEOUT_MS (${shortestLeaseMs} ms), so a renewal fits in a third of the lease`,
      String(limits.leaseMs / 1000),
    );
  }
  return { ...limits, store, redis };
}

function parseRedisConfig(env: Env): RedisConfig {
  const lines = IDEMPOTENCY_SETTINGS;
  return {
    connection: parseConnection(env),
    username: read(env, lines.username),
    password: read(env, lines.password),
    sentinelPassword: read(env, lines.sentinelPassword),
    tls: read(env, lines.tls),
    commandTimeoutMs: read(env, lines.commandTimeoutMs),
    connectTimeoutMs: read(env, lines.connectTimeoutMs),
  };
}

function parseConnection(env: Env): RedisConnectionConfig {
  const given = SHAPE_SETTINGS.filter((line) => readString(env, line.name) !== undefined).map((line) => line.name);
  const onlyOne = "exactly one of REDIS_URL, REDIS_SENTINELS (with REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES";
  if (given.length === 0) throw new ConfigError("IDEMPOTENCY_STORE", `memory, or redis with ${onlyOne}`, "redis");
  if (given.length > 1) {
    const values = given.map((name) => `${name}=${redactCredentials(readString(env, name) ?? "")}`);
    throw new ConfigError(given.join("+"), onlyOne, values.join(" "));
  }
  const url = read(env, IDEMPOTENCY_SETTINGS.redisUrl);
  if (url !== undefined) return { shape: "standalone", url };
  const sentinels = read(env, IDEMPOTENCY_SETTINGS.sentinels);
  if (sentinels !== undefined) {
    const masterName = readRequired(env, IDEMPOTENCY_SETTINGS.sentinelName, "required with REDIS_SENTINELS");
    return { shape: "sentinel", sentinels, masterName };
  }
  return { shape: "cluster", nodes: read(env, IDEMPOTENCY_SETTINGS.clusterNodes) ?? [] };
}

function isRedisUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if ((url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") return false;
  return url.pathname === "" || url.pathname === "/" || /^\/\d+$/.test(url.pathname);
}
