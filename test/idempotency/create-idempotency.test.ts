// createIdempotency (lazy ioredis, readiness, the shared client) and the
// ioredis options built from configuration. Behaviour against real
// servers is in the redis-*.test.ts files; these options are the ones no
// local server can show wrong (TLS to a Sentinel's master) or only by
// killing a connection mid-command (resending unanswered commands).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import type { RedisOptions } from "ioredis";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import type { RedisConfig } from "../../src/idempotency/config.js";
import { redisClientSpec } from "../../src/idempotency/redis-client-spec.js";
import { silentLogger } from "../../src/logger.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";
import { until } from "../support/eventually.js";

const run = promisify(execFile);

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

  test("cluster: CLUSTERDOWN and a dead node fail at once (no retries past the store timeout); slots refresh every 2 s", () => {
    const spec = redisClientSpec(redisConfig(shapes[2]![1]));
    assert.ok(spec.shape === "cluster");
    assert.equal(spec.options.retryDelayOnClusterDown, 0);
    assert.equal(spec.options.retryDelayOnFailover, 0);
    assert.equal(spec.options.slotsRefreshInterval, 2_000);
  });

  test("cluster with REDIS_TLS=true: TLS to every node", () => {
    assert.deepEqual(nodeOptions({ ...shapes[2]![1], REDIS_TLS: "true" }).tls, {});
    assert.equal(nodeOptions(shapes[2]![1]).tls, undefined);
  });
});

describe("createIdempotency", () => {
  test("start-up on the memory store never loads ioredis; the redis store does", async () => {
    // In a child process, so no other test file has loaded ioredis already.
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((path) => path.includes("/node_modules/ioredis/"));
      const { parseIdempotencyConfig } = await import("./src/idempotency/config.ts");
      const { createIdempotency } = await import("./src/idempotency/create-idempotency.ts");
      await import("./src/config.ts");
      const { systemClock } = await import("./src/clock.ts");
      const { silentLogger } = await import("./src/logger.ts");
      const deps = { clock: systemClock, logger: silentLogger };
      const memory = await createIdempotency(parseIdempotencyConfig({}), deps);
      const afterMemory = loaded();
      await memory.close();
      const env = { IDEMPOTENCY_STORE: "redis", REDIS_URL: "redis://127.0.0.1:1", REDIS_CONNECT_TIMEOUT_MS: "100" };
      const redis = await createIdempotency(parseIdempotencyConfig(env), deps);
      const afterRedis = loaded();
      await redis.close();
      console.log(JSON.stringify({ afterMemory, afterRedis, memoryClient: memory.redis === undefined }));
    `;
    const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: new URL("../..", import.meta.url),
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(stdout.trim()), { afterMemory: false, afterRedis: true, memoryClient: true });
  });

  test("the memory store is always ready and has no Redis client", async () => {
    const idempotency = await createIdempotency(parseIdempotencyConfig({}), {
      clock: systemClock,
      logger: silentLogger,
    });
    assert.deepEqual(await idempotency.checkReady(), { ready: true });
    assert.equal(idempotency.redis, undefined);
    await idempotency.close();
  });

  test("Redis: ready while PING answers, not ready with a reason once it stops, ready again when it is back", async (t) => {
    if (redisServerBinary() === undefined) {
      skipWithoutRedis(t, "stopping Redis needs our own redis-server");
      return;
    }
    const server = await startRedisServer();
    const config = parseIdempotencyConfig({
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: server.url,
      REDIS_COMMAND_TIMEOUT_MS: "300",
    });
    const idempotency = await createIdempotency(config, { clock: systemClock, logger: silentLogger });
    t.after(async () => {
      await idempotency.close();
      await server.close();
    });
    assert.ok(idempotency.redis !== undefined, "the client is shared");
    assert.equal(await idempotency.redis.ping(), "PONG");
    assert.deepEqual(await idempotency.checkReady(), { ready: true });
    await server.stop();
    const down = await idempotency.checkReady();
    assert.equal(down.ready, false);
    assert.match(down.detail ?? "", /^Redis redis:\/\/127\.0\.0\.1:\d+: /);
    await server.start();
    await until("ready", async () => (await idempotency.checkReady()).ready, { intervalMs: 100 });
  });
});
