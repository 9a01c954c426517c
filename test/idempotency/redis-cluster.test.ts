// The store contract on a real 3-master Redis Cluster, through an ioredis
// Cluster client configured the way createIdempotency configures it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { TestContext } from "node:test";
import { Cluster } from "ioredis";
import { createRedisClient } from "../../src/idempotency/redis-client.js";
import { idempotencyRecordKey, idempotencyScopeHash } from "../../src/idempotency/record-key.js";
import { createRedisIdempotencyStore } from "../../src/idempotency/redis-store.js";
import { silentLogger } from "../../src/logger.js";
import { clusterClientConnected, redisClusterTools, startRedisCluster } from "../support/redis-cluster.js";
import { until } from "../support/eventually.js";
import type { RedisCluster } from "../support/redis-cluster.js";
import { skipWithoutRedis } from "../support/redis-server.js";
import { redisStoreHarness } from "./redis-harness.js";
import { describeIdempotencyStoreContract } from "./store-contract.js";

let cluster: RedisCluster | undefined;
let client: Cluster | undefined;
let raw: Cluster | undefined;

before(async () => {
  if (redisClusterTools() === undefined) return;
  cluster = await startRedisCluster(3);
  const built = createRedisClient(
    {
      connection: { shape: "cluster", nodes: cluster.nodes },
      tls: false,
      commandTimeoutMs: 2_000,
      connectTimeoutMs: 2_000,
    },
    silentLogger,
  );
  assert.ok(built instanceof Cluster);
  client = built;
  raw = new Cluster([...cluster.nodes]);
  await Promise.all([untilReady(client), untilReady(raw)]);
  // The gateway's client fails fast (no offline queue): a command to a master
  // it has not connected to yet fails with "Connection is closed", as the
  // contract's first claim once did in CI. It connects to every master on its
  // own; wait for that. (raw queues its commands, and connects lazily.)
  const gateway = client;
  await until("the gateway's Cluster client connected to every master", () => clusterClientConnected(gateway, 3));
});

after(async () => {
  client?.disconnect();
  raw?.disconnect();
  await cluster?.close();
});

async function untilReady(c: Cluster): Promise<void> {
  if (c.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    c.once("ready", resolve);
    c.once("end", () => reject(new Error("cluster client ended before ready")));
  });
}

function clients(t: TestContext): { client: Cluster; raw: Cluster; cluster: RedisCluster } | undefined {
  if (client === undefined || raw === undefined || cluster === undefined) {
    skipWithoutRedis(t, "a Redis Cluster needs redis-server and redis-cli on PATH");
    return undefined;
  }
  return { client, raw, cluster };
}

describeIdempotencyStoreContract("redis (3-master cluster)", async (t) => {
  const c = clients(t);
  return c === undefined ? undefined : redisStoreHarness(c.client, c.raw);
});

describe("redis cluster layout", () => {
  test("the cluster has 3 masters and records spread over them", async (t) => {
    const c = clients(t);
    if (c === undefined) return;
    assert.equal(c.client.nodes("master").length, 3);
    const store = createRedisIdempotencyStore(c.client);
    const keys = Array.from({ length: 30 }, () =>
      idempotencyRecordKey({ callerId: "c", rpc: "r", token: randomUUID() }),
    );
    for (const key of keys) await store.claim({ key, fingerprint: "fp", owner: "o", leaseMs: 30_000, ttlMs: 60_000 });
    const perNode = await Promise.all(c.client.nodes("master").map((node) => node.dbsize()));
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `keys per master: ${perNode.join(",")}`);
  });

  test("every key of one record is in the slot of its hash tag", async (t) => {
    const c = clients(t);
    if (c === undefined) return;
    const scope = {
      callerId: "svc-a",
      rpc: "permission.v1.PermissionService/CreateRamPermission",
      token: randomUUID(),
    };
    const key = idempotencyRecordKey(scope);
    const store = createRedisIdempotencyStore(c.client);
    await store.claim({ key, fingerprint: "fp", owner: "o", leaseMs: 30_000, ttlMs: 60_000 });
    const outcome = { kind: "response" as const, response: new Uint8Array([7]) };
    await store.complete({ key, owner: "o", fingerprint: "fp", outcome, ttlMs: 60_000 });

    const [first] = c.cluster.nodes;
    assert.ok(first !== undefined);
    const tagSlot = await c.cluster.cli(first.port, "cluster", "keyslot", idempotencyScopeHash(scope));
    // Every key the store wrote that carries this record's tag, on any master.
    const written: string[] = [];
    for (const node of c.client.nodes("master")) {
      written.push(...(await node.keys(`*${idempotencyScopeHash(scope)}*`)));
    }
    assert.deepEqual(written, [key]);
    for (const each of written) {
      assert.equal(await c.cluster.cli(first.port, "cluster", "keyslot", each), tagSlot, each);
    }
    assert.equal(String(await c.raw.cluster("KEYSLOT", key)), tagSlot);
  });
});
