// A lease is checked right before every send: a call whose idempotency lease
// ran out (its process paused past it) sends nothing more to AWS, SDK
// retries included. The lease comes from the real heartbeat on a manual
// clock; AWS is the fake endpoint, whose call count is what reached it.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CallOptions, PermissionBackend } from "../../src/backend/backend.js";
import { decorateBackend } from "../../src/backend/decorate.js";
import { UpstreamTimeoutError } from "../../src/backend/errors.js";
import { createAwsError } from "../../src/backend/fake/aws-errors.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { startFakeAwsServer } from "../../src/fake-aws/server.js";
import { startLeaseHeartbeat, type LeaseHeartbeat } from "../../src/idempotency/lease-heartbeat.js";
import { createGatewayClient, responseOf } from "../support/clients.js";
import { startTestGateway } from "../support/gateway.js";
import { createIdempotencyGuard } from "../../src/idempotency/guard-machine.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import { silentLogger } from "../../src/logger.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { awsBackendAt, fn, rejectionOf } from "./aws/aws-test-stack.js";

const LEASE_MS = 5_000;
const INTERVAL_MS = 1_000;
const invoke = { action: "lambda:InvokeFunction", principal: "s3.amazonaws.com" } as const;

/** A heartbeat whose renewals never come back: the lease lasts from the grant alone. */
function heartbeatOn(clock: ManualClock): LeaseHeartbeat {
  return startLeaseHeartbeat({
    renew: () => new Promise(() => {}),
    clock,
    leaseMs: LEASE_MS,
    intervalMs: INTERVAL_MS,
    grantedAt: clock.now(),
    onLost: () => {},
    onRestored: () => {},
  });
}

const leasedCall = (heartbeat: LeaseHeartbeat): CallOptions => ({
  signal: heartbeat.lost,
  leaseHeld: () => heartbeat.held(),
});

/**
 * The fake AWS endpoint over a fake model whose first RemovePermission is
 * answered 429 (Retry-After 0), after which `between` runs: the time between
 * AWS's throttle and the SDK's retry.
 */
async function throttledOnce(between: () => void, clock?: ManualClock) {
  const model = createFakeBackend();
  let throttled = false;
  const endpoint = await startFakeAwsServer({
    backend: decorateBackend(model, undefined, {
      removeLambdaPermission: async (input, options) => {
        if (!throttled) {
          throttled = true;
          between();
          throw createAwsError("lambda", "TooManyRequestsException", { retryAfterSeconds: 0 });
        }
        return model.removeLambdaPermission(input, options);
      },
    }),
  });
  const backend = awsBackendAt(endpoint.port, clock);
  await backend.addLambdaPermission(
    { function: fn("demo"), statementId: "s1", ...invoke },
    { signal: new AbortController().signal },
  );
  endpoint.resetCallCounts();
  return {
    endpoint,
    backend,
    async close() {
      await backend.close();
      await endpoint.close();
      await model.close();
    },
  };
}

test("the lease runs out between AWS's 429 and the SDK's retry: the retry is never sent, the call ends lease-lost", async () => {
  const clock = manualClock();
  const heartbeat = heartbeatOn(clock);
  const stack = await throttledOnce(() => clock.advance(LEASE_MS));
  try {
    const error = await rejectionOf(
      stack.backend.removeLambdaPermission({ function: fn("demo"), statementId: "s1" }, leasedCall(heartbeat)),
    );
    assert.ok(error instanceof UpstreamTimeoutError, `${error.name}: ${error.message}`);
    assert.equal(stack.endpoint.callCount("RemovePermission"), 1, "only the throttled attempt reached AWS");
    assert.ok(heartbeat.lost.aborted, "the lease was given up");
    assert.match(String((heartbeat.lost.reason as Error).message), /ran out before a send/);
  } finally {
    heartbeat.stop();
    await stack.close();
  }
});

test("the same throttle with the lease still held: the SDK retries and the removal is made", async () => {
  const clock = manualClock();
  const heartbeat = heartbeatOn(clock);
  // Up to the line one renewal interval before the lease ends, sends go on.
  const stack = await throttledOnce(() => clock.advance(LEASE_MS - INTERVAL_MS - 1));
  try {
    await stack.backend.removeLambdaPermission({ function: fn("demo"), statementId: "s1" }, leasedCall(heartbeat));
    assert.equal(stack.endpoint.callCount("RemovePermission"), 2);
    assert.ok(!heartbeat.lost.aborted);
  } finally {
    heartbeat.stop();
    await stack.close();
  }
});

test("through a gateway and its idempotency guard: no retry after the lease, IDEMPOTENCY_LEASE_LOST, and the key's retry takes over", async () => {
  const clock = manualClock();
  // A 5 s lease (the default): AWS's 429 comes, and 5 s pass before the SDK's retry.
  const stack = await throttledOnce(() => clock.advance(LEASE_MS), clock);
  const idempotency = createIdempotencyGuard({
    store: createMemoryIdempotencyStore({ clock }),
    clock,
    logger: silentLogger,
    ttlMs: 60_000,
    leaseMs: LEASE_MS,
    maxWaitMs: 1_000,
  });
  const gateway = await startTestGateway<PermissionBackend>({ backend: stack.backend, idempotency, clock });
  const client = createGatewayClient("connect-json", gateway.url);
  try {
    const request = { functionName: "demo", statementId: "s1", idempotencyKey: "lease-past-429" };
    const first = await client.call("removeLambdaPermission", request);
    assert.ok(!first.ok);
    assert.equal(first.error.reason, "IDEMPOTENCY_LEASE_LOST", first.error.message);
    assert.equal(stack.endpoint.callCount("RemovePermission"), 1, "the SDK's retry was never sent");
    // The token was kept for a takeover, whose lease has run out by now: the retry runs it once.
    assert.deepEqual(responseOf(await client.call("removeLambdaPermission", request)), {});
    assert.equal(stack.endpoint.callCount("RemovePermission"), 2);
  } finally {
    client.close();
    await gateway.close();
    await stack.close();
  }
});

test("a lease already past before the first attempt: nothing reaches AWS", async () => {
  const clock = manualClock();
  const heartbeat = heartbeatOn(clock);
  const stack = await throttledOnce(() => {});
  try {
    clock.advance(LEASE_MS);
    const error = await rejectionOf(
      stack.backend.addLambdaPermission(
        { function: fn("demo"), statementId: "never", ...invoke },
        leasedCall(heartbeat),
      ),
    );
    assert.ok(error instanceof UpstreamTimeoutError, `${error.name}: ${error.message}`);
    assert.equal(stack.endpoint.callCount(), 0);
  } finally {
    heartbeat.stop();
    await stack.close();
  }
});

test("the in-process fake backend honours the same check: a call without its lease is not made", async () => {
  const clock = manualClock();
  const heartbeat = heartbeatOn(clock);
  const fake = createFakeBackend({ clock });
  try {
    clock.advance(LEASE_MS);
    const error = await rejectionOf(
      fake.addLambdaPermission({ function: fn("demo"), statementId: "never", ...invoke }, leasedCall(heartbeat)),
    );
    assert.ok(error instanceof UpstreamTimeoutError, `${error.name}: ${error.message}`);
    assert.equal(fake.callCount(), 0);
    assert.ok(heartbeat.lost.aborted);
  } finally {
    heartbeat.stop();
    await fake.close();
  }
});

test("held() measures from the last renewal the store confirmed, on the monotonic clock", async () => {
  let wall = 1_000_000;
  let monotonic = 50;
  const clock = { now: () => wall, monotonic: () => monotonic };
  let confirm: (() => void) | undefined;
  const heartbeat = startLeaseHeartbeat({
    renew: () =>
      new Promise((resolve) => {
        confirm = () => resolve("renewed");
      }),
    clock,
    leaseMs: 300,
    intervalMs: 100,
    grantedAt: wall,
    onLost: () => {},
    onRestored: () => {},
  });
  try {
    // The wall clock jumping back or forth changes nothing.
    wall -= 10_000;
    monotonic += 150;
    assert.equal(heartbeat.held(), true);
    // The first renewal is due at one interval (real timers): wait for it to be sent, then confirm it.
    while (confirm === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    const sentAt = monotonic;
    confirm();
    await new Promise((resolve) => setImmediate(resolve));
    monotonic = sentAt + 199;
    assert.equal(heartbeat.held(), true, "one interval before the renewed lease ends, sends go on");
    monotonic = sentAt + 200;
    assert.equal(heartbeat.held(), false);
    assert.ok(heartbeat.lost.aborted);
  } finally {
    heartbeat.stop();
  }
});
