// What a Redis restart does to tokens (docs/idempotency.md's persistence paragraph
// says this). Without persistence every record is gone: a completed token's
// retry runs again, while a call still running writes its record back with
// its next renewal, so its duplicates keep waiting instead of running
// alongside. With AOF (appendonly yes, appendfsync everysec) a restart keeps
// completed tokens: the retry replays.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterEach, test } from "node:test";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import { silentLogger } from "../../src/logger.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";
import { cleanUpGuards, deleteCall, deleteResponse, recordKey } from "./guard-harness.js";
import { until } from "../support/eventually.js";

afterEach(cleanUpGuards);

async function stack(t: TestContext, args: readonly string[]) {
  if (redisServerBinary() === undefined) {
    skipWithoutRedis(t, "restarting Redis needs our own redis-server");
    return undefined;
  }
  const server = await startRedisServer({ args });
  const config = parseIdempotencyConfig({
    IDEMPOTENCY_STORE: "redis",
    REDIS_URL: server.url,
    IDEMPOTENCY_LEASE_SECONDS: "2",
    IDEMPOTENCY_MAX_WAIT_MS: "20000",
  });
  const idempotency = await createIdempotency(config, { clock: systemClock, logger: silentLogger });
  // Another replica on the same Redis: its duplicates can only ask Redis.
  const other = await createIdempotency(config, { clock: systemClock, logger: silentLogger });
  t.after(async () => {
    await Promise.all([idempotency.close(), other.close()]);
    await server.close();
  });
  const restart = async () => {
    await server.stop();
    await server.start();
    for (let i = 0; !(await idempotency.checkReady()).ready || !(await other.checkReady()).ready; i += 1) {
      assert.ok(i < 200, "Redis did not come back");
      await sleep(100);
    }
  };
  let executions = 0;
  const execute = async (ms = 0) => {
    executions += 1;
    await sleep(ms);
    return deleteResponse;
  };
  return { idempotency, other, restart, execute, executions: () => executions };
}

test("no persistence: a restart forgets completed tokens (the retry runs again), but not a call still running", async (t) => {
  const s = await stack(t, []);
  if (s === undefined) return;
  const done = randomUUID();
  await s.idempotency.guard.run(deleteCall({ token: done }), () => s.execute());
  const running = randomUUID();
  const owner = s.idempotency.guard.run(deleteCall({ token: running }), () => s.execute(4_000));
  const record = () => s.other.store.read(recordKey(running));
  await until("the owner holds its claim", async () => (await record())?.state === "in_progress", { intervalMs: 10 });
  await s.restart();
  // The owner's next renewal (every 667 ms) writes its record back.
  await until("the owner's record is back", async () => (await record())?.state === "in_progress", { intervalMs: 20 });
  const duplicate = s.other.guard.run(deleteCall({ token: running }), () => s.execute());
  assert.deepEqual(await owner, deleteResponse);
  assert.deepEqual(await duplicate, deleteResponse);
  assert.equal(s.executions(), 2, "the duplicate of the running call waited and replayed");
  await s.idempotency.guard.run(deleteCall({ token: done }), () => s.execute());
  assert.equal(s.executions(), 3, "the completed token was forgotten: its retry ran again");
});

test("AOF (appendonly yes, appendfsync everysec): a restart keeps completed tokens, and the retry replays", async (t) => {
  const s = await stack(t, ["--appendonly", "yes", "--appendfsync", "everysec"]);
  if (s === undefined) return;
  const token = randomUUID();
  await s.idempotency.guard.run(deleteCall({ token }), () => s.execute());
  await s.restart();
  const retry = deleteCall({ token });
  await s.idempotency.guard.run(retry, () => s.execute());
  assert.equal(s.executions(), 1);
  assert.equal(retry.context.responseHeader.get("idempotent-replayed"), "true");
});
