import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../src/config-values.js";
import { IDEMPOTENCY_ENV_HELP, parseIdempotencyConfig } from "../../src/idempotency/config.js";

describe("parseIdempotencyConfig", () => {
  test("defaults: memory store, 24 h TTL, 5 s lease, 30 s execution, 5 s wait, polls 25 ms..1 s", () => {
    assert.deepEqual(parseIdempotencyConfig({}), {
      store: "memory",
      ttlMs: 86_400_000,
      leaseMs: 5_000,
      maxExecutionMs: 30_000,
      maxWaitMs: 5_000,
      pollMinMs: 25,
      pollMaxMs: 1_000,
    });
  });

  test("memory with Redis variables set: the store is memory (loadConfig warns, test/config-schema.test.ts)", () => {
    const config = parseIdempotencyConfig({ REDIS_URL: "redis://r:6379" });
    assert.equal(config.store, "memory");
  });

  test("standalone, Sentinel and Cluster shapes", () => {
    const standalone = parseIdempotencyConfig({
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: "rediss://user:secret@redis.internal:6380/2",
      REDIS_COMMAND_TIMEOUT_MS: "250",
      IDEMPOTENCY_TTL_SECONDS: "3600",
      IDEMPOTENCY_LEASE_SECONDS: "10",
      IDEMPOTENCY_MAX_EXECUTION_SECONDS: "60",
      IDEMPOTENCY_MAX_WAIT_MS: "0",
      IDEMPOTENCY_POLL_MIN_MS: "10",
      IDEMPOTENCY_POLL_MAX_MS: "500",
    });
    assert.deepEqual(standalone, {
      store: "redis",
      ttlMs: 3_600_000,
      leaseMs: 10_000,
      maxExecutionMs: 60_000,
      maxWaitMs: 0,
      pollMinMs: 10,
      pollMaxMs: 500,
      redis: {
        connection: { shape: "standalone", url: "rediss://user:secret@redis.internal:6380/2" },
        username: undefined,
        password: undefined,
        sentinelPassword: undefined,
        tls: false,
        commandTimeoutMs: 250,
        connectTimeoutMs: 2_000,
      },
    });
    const sentinel = parseIdempotencyConfig({
      IDEMPOTENCY_STORE: "redis",
      REDIS_SENTINELS: "10.0.0.1:26379, 10.0.0.2:26379",
      REDIS_SENTINEL_NAME: "mymaster",
      REDIS_PASSWORD: "pw",
    });
    assert.ok(sentinel.store === "redis");
    assert.deepEqual(sentinel.redis.connection, {
      shape: "sentinel",
      masterName: "mymaster",
      sentinels: [
        { host: "10.0.0.1", port: 26379 },
        { host: "10.0.0.2", port: 26379 },
      ],
    });
    assert.equal(sentinel.redis.password, "pw");
    const cluster = parseIdempotencyConfig({
      IDEMPOTENCY_STORE: "redis",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2:7000",
      REDIS_TLS: "true",
    });
    assert.ok(cluster.store === "redis");
    assert.deepEqual(cluster.redis.connection, {
      shape: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7000 },
      ],
    });
    assert.equal(cluster.redis.tls, true);
  });

  const invalid: [string, Record<string, string>, RegExp][] = [
    ["redis without any shape", { IDEMPOTENCY_STORE: "redis" }, /IDEMPOTENCY_STORE.*exactly one of REDIS_URL/],
    [
      "two shapes",
      { IDEMPOTENCY_STORE: "redis", REDIS_URL: "redis://a:6379", REDIS_CLUSTER_NODES: "b:7000" },
      /REDIS_URL\+REDIS_CLUSTER_NODES/,
    ],
    ["a URL of another scheme", { IDEMPOTENCY_STORE: "redis", REDIS_URL: "http://a:6379" }, /REDIS_URL/],
    ["a URL that is no URL", { IDEMPOTENCY_STORE: "redis", REDIS_URL: "a:6379" }, /REDIS_URL/],
    [
      "Sentinels without a master name",
      { IDEMPOTENCY_STORE: "redis", REDIS_SENTINELS: "s:26379" },
      /REDIS_SENTINEL_NAME/,
    ],
    ["a bad seed list", { IDEMPOTENCY_STORE: "redis", REDIS_CLUSTER_NODES: "a" }, /REDIS_CLUSTER_NODES/],
    ["an unknown store", { IDEMPOTENCY_STORE: "disk" }, /IDEMPOTENCY_STORE/],
    ["a TTL of 0", { IDEMPOTENCY_TTL_SECONDS: "0" }, /IDEMPOTENCY_TTL_SECONDS/],
    ["a lease that is no number", { IDEMPOTENCY_LEASE_SECONDS: "30s" }, /IDEMPOTENCY_LEASE_SECONDS/],
    ["a negative wait", { IDEMPOTENCY_MAX_WAIT_MS: "-1" }, /IDEMPOTENCY_MAX_WAIT_MS/],
    ["an execution bound of 0", { IDEMPOTENCY_MAX_EXECUTION_SECONDS: "0" }, /IDEMPOTENCY_MAX_EXECUTION_SECONDS/],
    [
      "a poll cap below the first poll",
      { IDEMPOTENCY_POLL_MIN_MS: "200", IDEMPOTENCY_POLL_MAX_MS: "100" },
      /IDEMPOTENCY_POLL_MAX_MS.*at least IDEMPOTENCY_POLL_MIN_MS \(200\)/,
    ],
    [
      "a lease too short for three Redis command timeouts",
      {
        IDEMPOTENCY_STORE: "redis",
        REDIS_URL: "redis://a",
        IDEMPOTENCY_LEASE_SECONDS: "1",
        REDIS_COMMAND_TIMEOUT_MS: "500",
      },
      /IDEMPOTENCY_LEASE_SECONDS="1".*at least 3 x REDIS_COMMAND_TIMEOUT_MS \(1500 ms\)/,
    ],
    [
      "a command timeout out of range",
      { IDEMPOTENCY_STORE: "redis", REDIS_URL: "redis://a", REDIS_COMMAND_TIMEOUT_MS: "0" },
      /REDIS_COMMAND_TIMEOUT_MS/,
    ],
  ];
  for (const [name, env, message] of invalid) {
    test(`ConfigError: ${name}`, () => {
      assert.throws(
        () => parseIdempotencyConfig(env),
        (error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  test("a password in REDIS_URL never appears in an error", () => {
    for (const env of [
      { IDEMPOTENCY_STORE: "redis", REDIS_URL: "redis://u:hunter2@a:6379/x" },
      { IDEMPOTENCY_STORE: "redis", REDIS_URL: "redis://u:hunter2@a:6379", REDIS_CLUSTER_NODES: "b:1" },
    ]) {
      assert.throws(
        () => parseIdempotencyConfig(env),
        (error) => {
          assert.ok(error instanceof ConfigError);
          assert.doesNotMatch(error.message, /hunter2/);
          return true;
        },
      );
    }
  });

  test("the help lists every variable it parses, with accepted values and defaults", () => {
    const names = IDEMPOTENCY_ENV_HELP.map((entry) => entry.name);
    for (const name of [
      "IDEMPOTENCY_STORE",
      "REDIS_URL",
      "REDIS_SENTINELS",
      "REDIS_SENTINEL_NAME",
      "REDIS_CLUSTER_NODES",
      "REDIS_USERNAME",
      "REDIS_PASSWORD",
      "REDIS_COMMAND_TIMEOUT_MS",
      "REDIS_CONNECT_TIMEOUT_MS",
      "IDEMPOTENCY_TTL_SECONDS",
      "IDEMPOTENCY_LEASE_SECONDS",
      "IDEMPOTENCY_MAX_EXECUTION_SECONDS",
      "IDEMPOTENCY_MAX_WAIT_MS",
      "IDEMPOTENCY_POLL_MIN_MS",
      "IDEMPOTENCY_POLL_MAX_MS",
    ]) {
      assert.ok(names.includes(name), name);
    }
    for (const entry of IDEMPOTENCY_ENV_HELP)
      assert.ok(entry.accepted && entry.default && entry.description, entry.name);
  });
});
