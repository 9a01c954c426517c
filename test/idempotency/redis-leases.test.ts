// Heartbeat leases on a real redis-server: a slow call keeps its token
// across many lease lengths (no duplicate takes over meanwhile), and a
// gateway process SIGKILLed mid-call frees its token within about one lease,
// taken over by another replica, which is told so (afterTakeover).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { afterEach, test } from "node:test";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { createHandlerContext } from "@connectrpc/connect";
import { Redis } from "ioredis";
import {
  AddLambdaPermissionRequestSchema,
  AddLambdaPermissionResponseSchema,
  PermissionService,
} from "../../gen/permission/v1/permission_pb.js";
import type { CallOptions } from "../../src/backend/backend.js";
import { systemClock } from "../../src/clock.js";
import { parseIdempotencyConfig } from "../../src/idempotency/config.js";
import { createIdempotency } from "../../src/idempotency/create-idempotency.js";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import { silentLogger } from "../../src/logger.js";
import { redisServerBinary, skipWithoutRedis, startRedisServer } from "../support/redis-server.js";
import type { RedisServer } from "../support/redis-server.js";
import { cleanUpGuards, deleteCall, deleteResponse, recordingObserver } from "./guard-harness.js";
import { until } from "../support/eventually.js";
import { startGatewayProcess } from "../process/gateway-process.js";

afterEach(cleanUpGuards);

const ADD = PermissionService.method.addLambdaPermission;
const ADD_RPC = `${PermissionService.typeName}/${ADD.name}`;
/** The old lease: the call's deadline (at most 30 s) plus 2 s. */
const OLD_TAKEOVER_MS = 32_000;

async function redisFor(t: TestContext): Promise<RedisServer | undefined> {
  if (redisServerBinary() === undefined) {
    skipWithoutRedis(t, "these tests need our own redis-server");
    return undefined;
  }
  const server = await startRedisServer();
  t.after(() => server.close());
  return server;
}

async function replica(t: TestContext, url: string, env: Record<string, string>, observer = recordingObserver()) {
  const config = parseIdempotencyConfig({ IDEMPOTENCY_STORE: "redis", REDIS_URL: url, ...env });
  const idempotency = await createIdempotency(config, {
    clock: systemClock,
    logger: silentLogger,
    observer: observer.observer,
  });
  t.after(() => idempotency.close());
  return { idempotency, observer };
}

test("a call running past several lease lengths keeps its token: a duplicate on another replica waits, never runs", async (t) => {
  const server = await redisFor(t);
  if (server === undefined) return;
  // 1 s leases (renewed every 333 ms), a 3.5 s call.
  const env = { IDEMPOTENCY_LEASE_SECONDS: "1", REDIS_COMMAND_TIMEOUT_MS: "200", IDEMPOTENCY_MAX_WAIT_MS: "20000" };
  const a = await replica(t, server.url, env);
  const b = await replica(t, server.url, env);
  let executions = 0;
  const slow = async () => {
    executions += 1;
    await sleep(3_500);
    return deleteResponse;
  };
  const token = randomUUID();
  const owner = a.idempotency.guard.run(deleteCall({ token }), slow);
  // Past the first lease: the owner has renewed its 1 s lease three times.
  const renewed = () => a.observer.commands.filter((c) => c.operation === "renew" && !c.failed).length;
  await until("the owner renews past its first lease", () => renewed() >= 3, { intervalMs: 20 });
  const duplicate = b.idempotency.guard.run(deleteCall({ token }), slow);
  assert.deepEqual(await owner, deleteResponse);
  assert.deepEqual(await duplicate, deleteResponse);
  assert.equal(executions, 1, "no takeover while the owner lived");
  assert.deepEqual(b.observer.outcomes, ["waited"]);
  const renewals = a.observer.commands.filter((c) => c.operation === "renew" && !c.failed).length;
  assert.ok(renewals >= 5, `renewed ${renewals} times`);
});

test("a gateway SIGKILLed mid-call: another replica takes its token over within about one lease, marked afterTakeover", async (t) => {
  const server = await redisFor(t);
  if (server === undefined) return;
  const raw = new Redis(server.url);
  t.after(() => raw.disconnect());
  // The embedded defaults otherwise: a 5 s lease.
  const gateway = await startGatewayProcess({
    IDEMPOTENCY_STORE: "redis",
    REDIS_URL: server.url,
    FAKE_LATENCY_MS: "60000",
  });
  t.after(() => gateway.stop());
  const token = randomUUID();
  const request = {
    functionName: "demo",
    statementId: `sid-${token.slice(0, 8)}`,
    action: "lambda:InvokeFunction",
    principal: "s3.amazonaws.com",
    idempotencyKey: token,
  };
  const inFlight = new AbortController();
  const call = fetch(`${gateway.url}/${ADD_RPC}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    signal: inFlight.signal,
  }).catch(() => undefined);
  t.after(async () => {
    inFlight.abort();
    await call;
  });
  const key = idempotencyRecordKey({ callerId: "anonymous", rpc: ADD_RPC, token });
  const leaseUntil = async () => Number(await raw.hget(key, "lease_until"));
  await until("the gateway holds the claim", async () => (await raw.hget(key, "state")) === "in_progress", {
    timeoutMs: 30_000,
  });
  const firstLease = await leaseUntil();
  await until("the gateway renewed its lease", async () => (await leaseUntil()) > firstLease, { timeoutMs: 30_000 });

  await gateway.stop(); // SIGKILL
  const killedAt = Date.now();

  const other = await replica(t, server.url, { IDEMPOTENCY_MAX_WAIT_MS: "60000" });
  const seen: CallOptions[] = [];
  let takenOverAt = 0;
  const response = await other.idempotency.guard.run(
    {
      rpc: ADD_RPC,
      token,
      requestSchema: AddLambdaPermissionRequestSchema,
      request: create(AddLambdaPermissionRequestSchema, request),
      tokenField: "idempotencyKey",
      responseSchema: AddLambdaPermissionResponseSchema,
      context: createHandlerContext({
        service: PermissionService,
        method: ADD,
        protocolName: "connect",
        requestMethod: "POST",
        url: `${gateway.url}/${ADD_RPC}`,
      }),
    },
    async (options) => {
      takenOverAt = Date.now();
      seen.push(options);
      return create(AddLambdaPermissionResponseSchema, { statement: "{}" });
    },
  );
  assert.equal(response.statement, "{}");
  assert.equal(seen[0]?.afterTakeover, true, "the backend is told to reconcile");
  assert.deepEqual(other.observer.outcomes, ["reclaimed"]);
  const takeoverMs = takenOverAt - killedAt;
  t.diagnostic(`token taken over ${takeoverMs} ms after SIGKILL (lease 5 s)`);
  assert.ok(takeoverMs < OLD_TAKEOVER_MS, `taken over after ${takeoverMs} ms`);
});
