// Redis goes away mid-test and comes back on the same port: calls fail
// closed (UNAVAILABLE, nothing executed) while it is gone, and the same
// guard, built by createIdempotency from configuration, works again after.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  DeleteRamPermissionRequestSchema,
  DeleteRamPermissionResponseSchema,
  PermissionService,
} from "../../gen/permission/v1/permission_pb.js";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";
import { until } from "../support/eventually.js";
import { createRecordingLogger } from "../support/recording-logger.js";
import { callOf, deleteSpec, type DeleteIn, type DeleteOut } from "./guard-harness.js";

const rpc = `${PermissionService.typeName}/${deleteSpec.method.name}`;
const request = create(DeleteRamPermissionRequestSchema, {
  permissionArn: "arn:aws:ram:us-east-1:123456789012:permission/p",
});
const call = (token: string) => callOf<DeleteIn, DeleteOut>(deleteSpec, request, { token });

function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof ConnectError &&
    error.code === Code.Unavailable &&
    error.findDetails(ErrorInfoSchema)[0]?.reason === "IDEMPOTENCY_STORE_UNAVAILABLE"
  );
}

test("Redis stopped: UNAVAILABLE at once and nothing executed; Redis back: the same guard works again", async (t) => {
  if (redisServerBinary() === undefined) {
    skipWithoutRedis(t, "stopping and restarting Redis needs our own redis-server");
    return;
  }
  const server = await startRedisServer();
  const logger = createRecordingLogger();
  const config = parseIdempotencyConfig({
    IDEMPOTENCY_STORE: "redis",
    REDIS_URL: server.url,
    REDIS_COMMAND_TIMEOUT_MS: "500",
    REDIS_CONNECT_TIMEOUT_MS: "1000",
  });
  const idempotency = await createIdempotency(config, { clock: systemClock, logger });
  t.after(async () => {
    await idempotency.close();
    await server.close();
  });
  let executions = 0;
  const execute = async () => {
    executions += 1;
    return create(DeleteRamPermissionResponseSchema, { returnValue: true });
  };

  // Up: executes once, then replays.
  const token = randomUUID();
  await idempotency.guard.run(call(token), execute);
  await idempotency.guard.run(call(token), execute);
  assert.equal(executions, 1);
  const key = idempotencyRecordKey({ callerId: "anonymous", rpc, token });
  assert.equal((await idempotency.store.read(key))?.state, "completed");

  // Down: every call fails closed, promptly, without executing.
  await server.stop();
  for (let i = 0; i < 3; i += 1) {
    const started = Date.now();
    await assert.rejects(idempotency.guard.run(call(randomUUID()), execute), isStoreUnavailable);
    assert.ok(Date.now() - started < 5_000, "fails fast instead of hanging");
  }
  await assert.rejects(
    idempotency.store.claim({ key: "k", fingerprint: "f", owner: "o", leaseMs: 1_000, ttlMs: 1_000 }),
  );
  assert.equal(executions, 1, "the backend is never called without a claim");

  // Back on the same port (empty: persistence is off): the same client reconnects by itself.
  await server.start();
  const fresh = randomUUID();
  const recovered = async (): Promise<boolean> => {
    try {
      await idempotency.guard.run(call(fresh), execute);
      return true;
    } catch (error) {
      assert.ok(isStoreUnavailable(error), String(error));
      return false;
    }
  };
  await until("the gateway recovers", recovered, { intervalMs: 100 });
  assert.equal(executions, 2);
  await idempotency.guard.run(call(fresh), execute);
  assert.equal(executions, 2, "replays again after recovery");

  const messages = logger.lines.map((line) => `${line.level}: ${line.message}`);
  assert.ok(
    messages.some((m) => m.startsWith("warn: Redis connection lost")),
    messages.join("\n"),
  );
  assert.equal(messages.filter((m) => m === "info: Redis connection ready").length, 2, messages.join("\n"));
});
