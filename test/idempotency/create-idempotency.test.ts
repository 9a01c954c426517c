// The ioredis options built from configuration. Behaviour against real
// servers is in the redis-*.test.ts files; these options are the ones no
// local server can show wrong (TLS to a Sentinel's master) or only by
// killing a connection mid-command (resending unanswered commands).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RedisOptions } from "ioredis";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import type { RedisConfig } from "../../src/idempotency/config.js";
import { redisClientSpec } from "../../src/idempotency/create-idempotency.js";

function redisConfig(env: Record<string, string>): RedisConfig {
  const config = parseIdempotencyConfig({ IDEMPOTENCY_STORE: "redis", ...env });
  assert.ok(config.store === "redis", "a Redis configuration");
  return config.redis;
}

const shapes: [string, Record<string, string>][] = [
  ["standalone", { REDIS_URL: "redis://127.0.0.1:6379" }],
  ["sentinel", { REDIS_SENTINELS: "127.0.0.1:26379", REDIS_SENTINEL_NAME: "mymaster" }],
  ["cluster", { REDIS_CLUSTER_NODES: "127.0.0.1:7000,127.0.0.1:7001" }],
];

/** The options each connection to a Redis node gets. */
function nodeOptions(env: Record<string, string>): RedisOptions {
  const spec = redisClientSpec(redisConfig(env));
  if (spec.shape !== "cluster") return spec.options;
  assert.equal(spec.options.enableOfflineQueue, false);
  return spec.options.redisOptions ?? assert.fail("a cluster passes redisOptions to its nodes");
}

describe("redisClientSpec", () => {
  for (const [shape, env] of shapes) {
    test(`${shape}: fails fast and never resends an unanswered command after a reconnect`, () => {
      const options = nodeOptions(env);
      assert.equal(options.autoResendUnfulfilledCommands, false);
      assert.equal(options.enableOfflineQueue, false);
      assert.equal(options.maxRetriesPerRequest, 1);
      assert.equal(options.commandTimeout, 500);
    });
  }

  test("sentinel with REDIS_TLS=true: TLS to the Sentinels and to the master they name", () => {
    const spec = redisClientSpec(redisConfig({ ...shapes[1]![1], REDIS_TLS: "true" }));
    assert.equal(spec.shape, "sentinel");
    assert.deepEqual(spec.options.tls, {});
    // Without this ioredis reaches the master in plain text despite `tls`.
    assert.equal(spec.options.enableTLSForSentinelMode, true);
    assert.deepEqual(spec.options.sentinelTLS, {});
  });

  test("sentinel without REDIS_TLS: no TLS anywhere", () => {
    const options = nodeOptions(shapes[1]![1]);
    assert.equal(options.tls, undefined);
    assert.equal(options.enableTLSForSentinelMode, undefined);
    assert.equal(options.sentinelTLS, undefined);
  });

  test("cluster with REDIS_TLS=true: TLS to every node", () => {
    assert.deepEqual(nodeOptions({ ...shapes[2]![1], REDIS_TLS: "true" }).tls, {});
    assert.equal(nodeOptions(shapes[2]![1]).tls, undefined);
  });
});
