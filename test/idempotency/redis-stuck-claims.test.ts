// No stuck claims, on a real redis-server: after a restart the scripts are
// there again before the first call; a stall (DEBUG SLEEP, SIGSTOP) makes
// claims time out, the callers are told nothing ran, and their tokens are
// free again as soon as Redis answers (abandons queue behind the late
// claims), not ABORTED for a whole lease; and on shutdown the calls that
// were cut release their claims before Redis is closed.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { afterEach, test } from "node:test";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import type { Idempotency } from "../../src/idempotency/create-idempotency.js";
import { IDEMPOTENCY_SCRIPTS } from "../../src/idempotency/redis-scripts.js";
import { scriptOf } from "../../src/idempotency/redis-store.js";
import { silentLogger } from "../../src/logger.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";
import type { RedisServer } from "../support/redis-server.js";
import { cleanUpGuards, deleteCall, deleteResponse, recordingObserver, untilAborted } from "./guard-harness.js";
import { until } from "../support/eventually.js";

afterEach(cleanUpGuards);

/** A 30 s lease: a token stuck for it would be unmistakable. */
const LEASE_SECONDS = "30";

interface Stack {
  readonly server: RedisServer;
  readonly idempotency: Idempotency;
  readonly raw: Redis;
  readonly watched: ReturnType<typeof recordingObserver>;
}

async function startStack(t: TestContext, env: Record<string, string> = {}): Promise<Stack | undefined> {
  if (redisServerBinary() === undefined) {
    skipWithoutRedis(t, "stalling and restarting Redis needs our own redis-server");
    return undefined;
  }
  const server = await startRedisServer({ args: ["--enable-debug-command", "local"] });
  const watched = recordingObserver();
  const config = parseIdempotencyConfig({
    IDEMPOTENCY_STORE: "redis",
    REDIS_URL: server.url,
    REDIS_COMMAND_TIMEOUT_MS: "500",
    REDIS_CONNECT_TIMEOUT_MS: "1000",
    IDEMPOTENCY_LEASE_SECONDS: LEASE_SECONDS,
    // A retry that found a stale claim would answer ABORTED at once.
    IDEMPOTENCY_MAX_WAIT_MS: "0",
    ...env,
  });
  const idempotency = await createIdempotency(config, {
    clock: systemClock,
    logger: silentLogger,
    observer: watched.observer,
  });
  const raw = new Redis(server.url, { maxRetriesPerRequest: null });
  t.after(async () => {
    raw.disconnect();
    await idempotency.close();
    await server.close();
  });
  return { server, idempotency, raw, watched };
}

function reasonOf(error: unknown): string | undefined {
  return error instanceof ConnectError ? error.findDetails(ErrorInfoSchema)[0]?.reason : undefined;
}

async function scriptsLoaded(raw: Redis): Promise<boolean> {
  const exists = (await raw.script("EXISTS", ...IDEMPOTENCY_SCRIPTS.map((source) => scriptOf(source).sha))) as number[];
  return exists.every((flag) => flag === 1);
}

/** Runs `tokens` through the guard while Redis is stalled by `stall`, then retries each once it answers. */
async function claimsDuringStall(stack: Stack, stall: () => Promise<void>, tokens: readonly string[]) {
  let executions = 0;
  const execute = async () => {
    executions += 1;
    return deleteResponse;
  };
  const stalled = stall();
  stalled.catch(() => undefined); // observed now, rethrown below
  await sleep(100); // the stall has begun
  const first = await Promise.allSettled(
    tokens.map((token) => stack.idempotency.guard.run(deleteCall({ token }), execute)),
  );
  await stalled;
  return { first, executions: () => executions, execute };
}

test("after a Redis restart the scripts are loaded again before any call, and no caller sees NOSCRIPT", async (t) => {
  const stack = await startStack(t);
  if (stack === undefined) return;
  await stack.idempotency.guard.run(deleteCall({ token: randomUUID() }), async () => deleteResponse);
  await stack.server.stop();
  await stack.server.start();
  // Nobody has called yet: the client loaded them on reconnecting.
  await until("scripts loaded on reconnect", () => scriptsLoaded(stack.raw));
  await until("the client is back", async () => (await stack.idempotency.checkReady()).ready);
  const before = stack.watched.commands.length;
  for (let i = 0; i < 5; i += 1) {
    await stack.idempotency.guard.run(deleteCall({ token: randomUUID() }), async () => deleteResponse);
  }
  const after = stack.watched.commands.slice(before);
  assert.ok(after.length >= 10, "claims and completions went through");
  assert.deepEqual(
    after.filter((c) => c.failed),
    [],
    "no store command failed after the restart",
  );
});

for (const [name, stall] of [
  ["DEBUG SLEEP 2", (stack: Stack) => stack.raw.call("DEBUG", "SLEEP", "2").then(() => undefined)],
  [
    "SIGSTOP for 2 s",
    async (stack: Stack) => {
      stack.server.kill("SIGSTOP");
      await sleep(2_000);
      stack.server.kill("SIGCONT");
    },
  ],
] as const) {
  test(`after a restart, a stall (${name}) during claims: callers told nothing ran, and the tokens are free again`, async (t) => {
    const stack = await startStack(t);
    if (stack === undefined) return;
    // The sequence: a restart first (scripts gone), then the stall.
    await stack.server.stop();
    await stack.server.start();
    await until("the client is back", async () => (await stack.idempotency.checkReady()).ready);
    const tokens = Array.from({ length: 8 }, () => randomUUID());
    const run = await claimsDuringStall(stack, () => stall(stack), tokens);
    for (const outcome of run.first) {
      assert.equal(outcome.status, "rejected");
      assert.equal(ConnectError.from(outcome.reason).code, Code.Unavailable);
      assert.equal(reasonOf(outcome.reason), "IDEMPOTENCY_STORE_UNAVAILABLE", "told: nothing was executed");
    }
    assert.equal(run.executions(), 0);
    // The late claims landed when Redis woke; the abandons queued behind them
    // follow: each record stays (a lost claim may have been a takeover), with
    // its lease ended, so no token waits for a lease.
    await until(
      "no claim holds its token",
      async () => {
        const keys = await stack.raw.keys("pg:idem:*");
        const now = Number((await stack.raw.time())[0]) * 1000;
        const leases = await Promise.all(keys.map((key) => stack.raw.hget(key, "lease_until")));
        return keys.length === tokens.length && leases.every((lease) => Number(lease) <= now + 1000);
      },
      { timeoutMs: 10_000 },
    );
    for (const token of tokens) {
      assert.deepEqual(
        await stack.idempotency.guard.run(deleteCall({ token }), run.execute),
        deleteResponse,
        "not ABORTED",
      );
    }
    assert.equal(run.executions(), tokens.length, "each token ran exactly once, on its retry");
  });
}

test("shutdown: calls cut while Redis is slow release their claims before close() resolves", async (t) => {
  const stack = await startStack(t);
  if (stack === undefined) return;
  const cut = new AbortController();
  setMaxListeners(0, cut.signal); // one signal for twelve calls
  const calls = Array.from({ length: 12 }, () =>
    stack.idempotency.guard.run(deleteCall({ token: randomUUID(), signal: cut.signal }), untilAborted()),
  );
  await until("12 claims held", async () => (await stack.raw.keys("pg:idem:*")).length === 12);
  // Redis busy as the grace ends: the first releases time out and are retried.
  const busy = stack.raw.call("DEBUG", "SLEEP", "1");
  await sleep(50);
  cut.abort(); // the server cuts what is left...
  const outcomes = await Promise.allSettled(calls); // ...and waits for the handlers to return
  assert.ok(outcomes.every((o) => o.status === "rejected"));
  await busy;
  await stack.idempotency.close();
  const keys = await stack.raw.keys("pg:idem:*");
  const states = await Promise.all(keys.map((key) => stack.raw.hget(key, "state")));
  assert.deepEqual(states, [], "no in_progress record once close() resolved");
});
