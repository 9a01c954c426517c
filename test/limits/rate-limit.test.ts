// The per-caller rate limit through real servers and clients: a burst past
// the limit gets RESOURCE_EXHAUSTED with RetryInfo; two replicas sharing one
// real redis-server (each with its own ioredis client, built as production
// builds it) hold one limit between them; Redis going away is no outage.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import type { Cluster, Redis } from "ioredis";
import { createAuthenticationInterceptor } from "../../src/auth/authentication-interceptor.js";
import type { RateLimitConfig } from "../../src/auth/config.js";
import { createNoAuthenticator } from "../../src/auth/none/none-authenticator.js";
import { createRedisClient } from "../../src/idempotency/redis-client.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { silentLogger, type Logger } from "../../src/logger.js";
import { createCallerRateLimiter, createRateLimitInterceptor } from "../../src/limits/rate-limit.js";
import {
  callAs,
  connectTransport,
  startAuthTestServer,
  type AuthTestServer,
  type CallOutcome,
} from "../auth/support/auth-server.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";

/** A replica: authentication (x-caller-id, AUTH_MODE=none), then the limit, then the service. */
async function startReplica(
  config: RateLimitConfig,
  redis?: Redis | Cluster,
  logger: Logger = silentLogger,
): Promise<AuthTestServer> {
  const limiter = createCallerRateLimiter(config, { redis, logger });
  return startAuthTestServer({
    interceptors: [
      createAuthenticationInterceptor(createNoAuthenticator(), silentLogger),
      createRateLimitInterceptor(limiter, logger),
    ],
  });
}

/** The client production builds for REDIS_URL, once connected (before that the limiter counts in memory). */
async function redisClient(url: string): Promise<Redis | Cluster> {
  const config = parseIdempotencyConfig({ IDEMPOTENCY_STORE: "redis", REDIS_URL: url });
  assert.ok(config.store === "redis");
  const client = createRedisClient(config.redis, silentLogger);
  if (client.status !== "ready") await once(client, "ready");
  return client;
}

function assertLimited(outcome: CallOutcome, windowMs: number, label: string): void {
  assert.ok(!outcome.ok, `${label}: must be limited`);
  assert.equal(outcome.code, Code.ResourceExhausted, label);
  assert.equal(outcome.reason, "CALLER_RATE_LIMITED", label);
  assert.equal(outcome.domain, "permission-gateway", label);
  assert.ok(
    outcome.retryDelayMs !== undefined && outcome.retryDelayMs > 0 && outcome.retryDelayMs <= windowMs,
    `${label}: RetryInfo ${outcome.retryDelayMs}`,
  );
}

test("a burst past the limit gets RESOURCE_EXHAUSTED with RetryInfo and reaches nothing; other callers are unaffected", async () => {
  const server = await startReplica({ calls: 5, windowSeconds: 60 });
  try {
    const transport = connectTransport(server.url);
    const burst = await Promise.all(Array.from({ length: 8 }, () => callAs(transport, { "x-caller-id": "busy" })));
    assert.equal(burst.filter((outcome) => outcome.ok).length, 5);
    for (const outcome of burst.filter((o) => !o.ok)) assertLimited(outcome, 60_000, "the burst");
    const limited = burst.find((o) => !o.ok);
    assert.ok(limited !== undefined && !limited.ok);
    assert.deepEqual(limited.metadata, { limit: "5", windowSeconds: "60" });
    assert.match(limited.message, /caller busy is over its limit of 5 calls per 60 s/);
    assert.equal(server.handled(), 5, "limited calls never reached the service");
    assert.equal((await callAs(transport, { "x-caller-id": "quiet" })).ok, true);
  } finally {
    await server.close();
  }
});

test("the limit holds across two replicas sharing one real redis-server", async (t) => {
  if (redisServerBinary() === undefined) return skipWithoutRedis(t, "the rate limit shared through Redis");
  const redisServer = await startRedisServer();
  const clients = await Promise.all([redisClient(redisServer.url), redisClient(redisServer.url)]);
  const config = { calls: 6, windowSeconds: 60 };
  const replicas = await Promise.all(clients.map((client) => startReplica(config, client)));
  try {
    const transports = replicas.map((replica) => connectTransport(replica.url));
    const caller = { "x-caller-id": `caller-${randomUUID()}` };
    const outcomes: CallOutcome[] = [];
    for (let i = 0; i < 10; i++) outcomes.push(await callAs(transports[i % 2] ?? assert.fail(), caller));
    assert.deepEqual(
      outcomes.map((o) => o.ok),
      [true, true, true, true, true, true, false, false, false, false],
      "six calls in all, alternating between the replicas",
    );
    for (const outcome of outcomes.slice(6)) assertLimited(outcome, 60_000, "over the shared limit");
    assert.deepEqual(
      replicas.map((r) => r.handled()),
      [3, 3],
    );
    // The count lives in Redis (under a hash of the caller id), not in either process.
    const keys = await (clients[0] as Redis).keys("pg:rl:*");
    assert.equal(keys.length, 1);
    assert.equal(await (clients[0] as Redis).get(keys[0] ?? ""), "10");
  } finally {
    await Promise.all(replicas.map((r) => r.close()));
    for (const client of clients) client.disconnect();
    await redisServer.close();
  }
});

test("Redis down: calls go on, counted in each process, with a warning; no outage", async (t) => {
  if (redisServerBinary() === undefined) return skipWithoutRedis(t, "the rate limit falling back when Redis fails");
  const redisServer = await startRedisServer();
  const client = await redisClient(redisServer.url);
  const logger = createRecordingLogger();
  const replica = await startReplica({ calls: 3, windowSeconds: 60 }, client, logger);
  try {
    const transport = connectTransport(replica.url);
    const caller = { "x-caller-id": "steady" };
    assert.equal((await callAs(transport, caller)).ok, true, "counted in Redis");
    await redisServer.stop();
    const during = [];
    for (let i = 0; i < 4; i++) during.push(await callAs(transport, caller));
    assert.deepEqual(
      during.map((o) => o.ok),
      [true, true, true, false],
      "the in-process limiter takes over with the same limit",
    );
    assertLimited(during[3] ?? assert.fail(), 60_000, "the fallback limit");
    const warning = await logger.waitFor(
      (line) => line.level === "warn" && line.message.startsWith("rate limit: Redis failed"),
    );
    assert.ok(warning.fields?.["error"] instanceof Error);
  } finally {
    await replica.close();
    client.disconnect();
    await redisServer.close();
  }
});

test("the interceptor refuses to run before authentication: INTERNAL, logged", async () => {
  const logger = createRecordingLogger();
  const limiter = createCallerRateLimiter({ calls: 1, windowSeconds: 1 }, { logger });
  const server = await startAuthTestServer({ interceptors: [createRateLimitInterceptor(limiter, logger)] });
  try {
    const outcome = await callAs(connectTransport(server.url));
    assert.ok(!outcome.ok);
    assert.equal(outcome.code, Code.Internal);
    assert.equal(outcome.message, "internal error");
    assert.ok(
      logger.lines.some(
        (line) => line.level === "error" && line.message.includes("authentication interceptor must run first"),
      ),
    );
    assert.equal(server.handled(), 0);
  } finally {
    await server.close();
  }
});
