// Shutdown as an operator sees it, on a real process with a real Redis:
// calls still running when the grace period ends are cut, each releases its
// idempotency claim before the connection to Redis is closed (none is left
// in_progress to hold its token for a lease), and the exit code says calls
// were cut. A shutdown that cut nothing exits 0.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { startGatewayProcess } from "./process/gateway-process.js";
import { acquireStandaloneRedis, skipWithoutRedis, type StandaloneRedis } from "./support/redis-server.js";

const ADD = "/permission.v1.PermissionService/AddLambdaPermission";

describe("shutdown", () => {
  let redis: StandaloneRedis;
  before(async () => (redis = await acquireStandaloneRedis()));
  after(() => redis.close());

  test("calls cut at the end of the grace period release their claims, and the exit code is 1", async (t) => {
    if (redis.kind === "none") return skipWithoutRedis(t, redis.reason);
    const gateway = await startGatewayProcess({
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: redis.url,
      FAKE_LATENCY_MS: "30000",
      SHUTDOWN_GRACE_MS: "300",
    });
    const raw = new Redis(redis.url);
    t.after(async () => {
      raw.disconnect();
      await gateway.stop();
    });
    const calls = Array.from({ length: 12 }, (_, i) =>
      fetch(gateway.url + ADD, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          functionName: "demo",
          statementId: `cut-${i}`,
          action: "lambda:InvokeFunction",
          principal: "s3.amazonaws.com",
          idempotencyKey: `cut-${i}`,
        }),
      }).then(
        (res) => res.status,
        () => "cut",
      ),
    );
    const claimed = async (): Promise<number> => (await raw.keys("pg:idem:*")).length;
    for (let i = 0; (await claimed()) < 12; i++) {
      if (i > 500) assert.fail(`only ${await claimed()} claims were made`);
      await sleep(20);
    }
    gateway.process.child.kill("SIGTERM");
    assert.equal(await gateway.exitCode(), 1, "calls were cut");
    const outcomes = await Promise.all(calls);
    assert.ok(
      outcomes.every((o) => o !== 200),
      "no cut call claims success",
    );
    const states = await Promise.all((await raw.keys("pg:idem:*")).map((key) => raw.hget(key, "state")));
    assert.deepEqual(
      states.filter((state) => state === "in_progress"),
      [],
      "no claim is left in progress",
    );
    assert.ok(
      gateway.lines().some((line) => line.includes('"cutCalls":12')),
      "the log says how many calls were cut",
    );
  });

  test("a shutdown that cut nothing exits 0", async () => {
    const gateway = await startGatewayProcess({ FAKE_LATENCY_MS: "200", SHUTDOWN_GRACE_MS: "10000" });
    const call = fetch(gateway.url + "/permission.v1.PermissionService/ListRamPermissions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await sleep(50);
    gateway.process.child.kill("SIGTERM");
    assert.equal((await call).status, 200, "the call in flight finished");
    assert.equal(await gateway.exitCode(), 0);
  });
});
