import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { TestContext } from "node:test";
import { Redis } from "ioredis";
import { idempotencyRecordKey, idempotencyScopeHash } from "../../src/idempotency/record-key.js";
import { createRedisIdempotencyStore } from "../../src/idempotency/redis-store.js";
import { acquireStandaloneRedis, skipWithoutRedis } from "../support/redis-server.js";
import type { StandaloneRedis } from "../support/redis-server.js";
import { describeIdempotencyStoreContract } from "./store-contract.js";
import { redisStoreHarness } from "./redis-harness.js";

let redis: StandaloneRedis | undefined;
let client: Redis | undefined;
let raw: Redis | undefined;

before(async () => {
  redis = await acquireStandaloneRedis();
  if (redis.kind === "none") return;
  client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  raw = new Redis(redis.url, { lazyConnect: true });
  await Promise.all([client.connect(), raw.connect()]);
});

after(async () => {
  client?.disconnect();
  raw?.disconnect();
  await redis?.close();
});

function clients(t: TestContext): { client: Redis; raw: Redis } | undefined {
  if (client === undefined || raw === undefined) {
    skipWithoutRedis(t, redis?.kind === "none" ? redis.reason : "no Redis");
    return undefined;
  }
  return { client, raw };
}

describeIdempotencyStoreContract("redis (standalone)", async (t) => {
  const c = clients(t);
  if (c === undefined) return undefined;
  return redisStoreHarness(c.client, c.raw);
});

describe("redis store specifics", () => {
  test("a record is one hash at pg:idem:{sha256(caller, rpc, token)} with a TTL", async (t) => {
    const c = clients(t);
    if (c === undefined) return;
    const scope = {
      callerId: "svc-a",
      rpc: "permission.v1.PermissionService/DeleteRamPermission",
      token: randomUUID(),
    };
    const key = idempotencyRecordKey(scope);
    assert.match(key, /^pg:idem:\{[0-9a-f]{64}\}$/);
    assert.equal(key, `pg:idem:{${idempotencyScopeHash(scope)}}`);
    const store = createRedisIdempotencyStore(c.client);
    await store.claim({ key, fingerprint: "fp", owner: "o", leaseMs: 30_000, ttlMs: 86_400_000 });
    assert.equal(await c.raw.type(key), "hash");
    assert.equal(await c.raw.exists(key), 1);
    const fields = await c.raw.hgetall(key);
    assert.deepEqual(Object.keys(fields).sort(), ["fp", "lease_until", "owner", "state"]);
    assert.ok(!JSON.stringify(fields).includes(scope.token), "the raw token is never stored");
    const ttl = await c.raw.pttl(key);
    assert.ok(ttl > 0 && ttl <= 86_400_000, `pttl ${ttl}`);
    const outcome = { kind: "response" as const, response: new Uint8Array([1, 2, 3]) };
    await store.complete({ key, owner: "o", fingerprint: "fp", outcome, ttlMs: 60_000 });
    const completed = await c.raw.hgetall(key);
    assert.deepEqual(Object.keys(completed).sort(), ["fp", "outcome", "owner", "state"]);
    assert.equal(completed["fp"], "fp", "completion keeps the fingerprint");
    const completedTtl = await c.raw.pttl(key);
    assert.ok(completedTtl > 0 && completedTtl <= 60_000, `pttl ${completedTtl}`);
  });

  test("scripts are reloaded after SCRIPT FLUSH (as after a failover to a fresh node)", async (t) => {
    const c = clients(t);
    if (c === undefined) return;
    if (redis?.kind !== "server") {
      skipWithoutRedis(t, "needs our own redis-server: SCRIPT FLUSH would touch a shared one");
      return;
    }
    const store = createRedisIdempotencyStore(c.client);
    const key = idempotencyRecordKey({ callerId: "c", rpc: "r", token: randomUUID() });
    assert.deepEqual(await store.claim({ key, fingerprint: "fp", owner: "o", leaseMs: 30_000, ttlMs: 60_000 }), {
      kind: "claimed",
    });
    await c.raw.script("FLUSH");
    assert.equal((await store.read(key))?.state, "in_progress");
  });
});
