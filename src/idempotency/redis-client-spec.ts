// The ioredis options for one configuration, as plain data: fail fast, never
// queue, never resend. Pure (ioredis is only named as types here), so tests
// read them without a server and start-up on the memory store never loads
// ioredis.
import type { ClusterOptions, RedisOptions } from "ioredis";
import type { HostPort, RedisConfig } from "./config.js";
import { redactCredentials } from "./redact-credentials.js";

/** What to hand to ioredis for one configuration: a `Redis` (standalone, Sentinel) or a `Cluster`. */
export type RedisClientSpec =
  | { readonly shape: "standalone"; readonly url: string; readonly options: RedisOptions; readonly target: string }
  | { readonly shape: "sentinel"; readonly options: RedisOptions; readonly target: string }
  | {
      readonly shape: "cluster";
      readonly nodes: readonly HostPort[];
      readonly options: ClusterOptions;
      readonly target: string;
    };

/** Reconnect backoff: doubling from 100 ms, capped at 2 s, and never giving up. */
const MAX_RECONNECT_DELAY_MS = 2_000;
export const reconnectDelay = (attempt: number): number =>
  Math.min(100 * 2 ** Math.min(attempt, 5), MAX_RECONNECT_DELAY_MS);

const CLUSTER_SLOTS_REFRESH_MS = 2_000;

export function redisClientSpec(config: RedisConfig): RedisClientSpec {
  const credentials = {
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
  };
  const failFast: RedisOptions = {
    // Connect now, in the background; until ready, commands fail at once.
    lazyConnect: false,
    enableOfflineQueue: false,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    // A command whose reply was lost is not sent again after a reconnect:
    // by then the guard may have given up on it (and released its claim),
    // and a late claim would hold the token for nobody until its lease ends.
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    // A failed-over master turned replica answers READONLY: reconnect, and
    // (Sentinel) find the new master; the failing call itself is not resent.
    reconnectOnError: (error) => error.message.startsWith("READONLY"),
    ...credentials,
  };
  const tls = config.tls ? { tls: {} } : {};
  const { connection } = config;
  switch (connection.shape) {
    case "standalone":
      return { shape: "standalone", url: connection.url, options: failFast, target: redactCredentials(connection.url) };
    case "sentinel":
      return {
        shape: "sentinel",
        options: {
          ...failFast,
          ...tls,
          // Without enableTLSForSentinelMode ioredis connects to the master
          // the Sentinels name in plain text, even with `tls` set; sentinelTLS
          // is for the Sentinels themselves.
          ...(config.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
          sentinels: connection.sentinels.map(({ host, port }) => ({ host, port })),
          name: connection.masterName,
          ...(config.sentinelPassword === undefined ? {} : { sentinelPassword: config.sentinelPassword }),
          sentinelRetryStrategy: reconnectDelay,
        },
        target: `sentinel master ${connection.masterName}`,
      };
    case "cluster":
      return {
        shape: "cluster",
        nodes: connection.nodes.map(({ host, port }) => ({ host, port })),
        options: {
          enableOfflineQueue: false,
          lazyConnect: false,
          clusterRetryStrategy: reconnectDelay,
          // CLUSTERDOWN (a dead master with cluster-require-full-coverage
          // yes) and a closed node connection fail at once instead of being
          // retried for up to 16 x 100 ms: past the guard's store timeout a
          // retried claim could only land late, for an attempt that gave up.
          retryDelayOnClusterDown: 0,
          retryDelayOnFailover: 0,
          // Without those retries nothing else asks for the slots again, so
          // a promoted replica is found by a periodic refresh.
          slotsRefreshInterval: CLUSTER_SLOTS_REFRESH_MS,
          slotsRefreshTimeout: config.connectTimeoutMs,
          redisOptions: { ...failFast, ...tls },
        },
        target: `cluster ${connection.nodes.map(({ host, port }) => `${host}:${port}`).join(",")}`,
      };
  }
}

/** Every credential the configuration holds, raw and decoded, to take out of messages. */
export function secretsOf(config: RedisConfig): string[] {
  const secrets = [config.password, config.sentinelPassword];
  if (config.connection.shape === "standalone") {
    try {
      const { password } = new URL(config.connection.url);
      secrets.push(password, decodeURIComponent(password));
    } catch {
      // parseIdempotencyConfig only passes URLs that parse.
    }
  }
  return secrets.filter((secret): secret is string => secret !== undefined && secret !== "");
}
