// Sentinel is configuration, not code: the same guard, built from
// REDIS_SENTINELS + REDIS_SENTINEL_NAME, finds the master through a real
// Sentinel and keeps its records there.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import {
  DeleteRamPermissionRequestSchema,
  DeleteRamPermissionResponseSchema,
  PermissionService,
} from "../../gen/permission/v1/permission_pb.js";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import { silentLogger } from "../../src/logger.js";
import { redisServerBinary, skipWithoutRedis, startRedisSentinel, startRedisServer } from "../support/redis-server.js";
import { callOf, deleteSpec, type DeleteIn, type DeleteOut } from "./guard-harness.js";

test("REDIS_SENTINELS: records go to the master the Sentinel names", async (t) => {
  if (redisServerBinary() === undefined) {
    skipWithoutRedis(t, "a Sentinel needs our own redis-server");
    return;
  }
  const cleanup: (() => unknown)[] = [];
  // Newest first: clients before the servers they talk to.
  t.after(async () => {
    for (const step of cleanup.reverse()) await step();
  });
  const master = await startRedisServer();
  cleanup.push(() => master.close());
  const sentinel = await startRedisSentinel("pgmaster", master.port);
  cleanup.push(() => sentinel.close());
  const config = parseIdempotencyConfig({
    IDEMPOTENCY_STORE: "redis",
    REDIS_SENTINELS: `${sentinel.host}:${sentinel.port}`,
    REDIS_SENTINEL_NAME: "pgmaster",
  });
  const idempotency = await createIdempotency(config, { clock: systemClock, logger: silentLogger });
  cleanup.push(() => idempotency.close());

  const rpc = `${PermissionService.typeName}/${deleteSpec.method.name}`;
  const token = randomUUID();
  const request = create(DeleteRamPermissionRequestSchema, {
    permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/p",
  });
  const call = () => callOf<DeleteIn, DeleteOut>(deleteSpec, request, { token });
  let executions = 0;
  const execute = async () => {
    executions += 1;
    return create(DeleteRamPermissionResponseSchema, { returnValue: true, clientToken: token });
  };
  const first = await idempotency.guard.run(call(), execute);
  const second = await idempotency.guard.run(call(), execute);
  assert.equal(executions, 1);
  assert.deepEqual(second, first);

  const raw = new Redis(master.url);
  cleanup.push(() => raw.disconnect());
  assert.equal(await raw.hget(idempotencyRecordKey({ callerId: "anonymous", rpc, token }), "state"), "completed");
});
