// The guard in process, on the memory store (and, for failures of the store
// itself, on small stand-ins of the IdempotencyStore port).
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import type { MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, ResourceInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  DeleteRamPermissionRequestSchema,
  DeleteRamPermissionResponseSchema,
  PermissionService,
} from "../../gen/permission/v1/permission_pb.js";
import type { CallOptions } from "../../src/backend/backend.js";
import type { IdempotencyStore } from "../../src/idempotency/store.js";
import { createFakeBackend } from "../../src/backend/fake/fake-backend.js";
import { toConnectError } from "../../src/errors.js";
import { REPLAYED_HEADER } from "../../src/idempotency/guard-port.js";
import { requestFingerprint } from "../../src/idempotency/fingerprint.js";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import { silentLogger } from "../../src/logger.js";
import { parseDeleteRamPermissionRequest } from "../../src/validation.js";
import {
  assertGatewayError,
  callOf,
  cleanUpGuards,
  counted,
  countingStore,
  deleteCall,
  deleteRequest,
  deleteResponse,
  deleteSpec,
  recordKey,
  recordingObserver,
  setup,
  storeWith,
} from "./guard-harness.js";
import type { DeleteIn, DeleteOut } from "./guard-harness.js";
import { mutatingRequests, variantsChangingOneField } from "./requests.js";
import { until } from "../support/eventually.js";
import { manualClock } from "../support/manual-clock.js";

afterEach(cleanUpGuards);

describe("idempotency guard", () => {
  test("the first call executes; an identical retry replays the same response with the replay header", async () => {
    const { guard } = setup();
    const backend = counted(async () => deleteResponse);
    const first = deleteCall();
    const one = await guard.run(first, backend.execute);
    assert.equal(first.context.responseHeader.get(REPLAYED_HEADER), null);
    const retry = deleteCall();
    const two = await guard.run(retry, backend.execute);
    assert.equal(backend.runs(), 1);
    assert.equal(retry.context.responseHeader.get(REPLAYED_HEADER), "true");
    assert.deepEqual(
      toBinary(DeleteRamPermissionResponseSchema, two),
      toBinary(DeleteRamPermissionResponseSchema, one),
    );
    assert.deepEqual(two, one);
  });

  for (const spec of mutatingRequests) {
    test(`${spec.name}: the token reused with any one field changed is IDEMPOTENT_PARAMETER_MISMATCH`, async () => {
      const { guard } = setup();
      const backend = counted(async () => spec.response);
      await guard.run(callOf(spec, spec.base), backend.execute);
      const variants = variantsChangingOneField(spec.schema, spec.base, spec.tokenField);
      for (const variant of variants) {
        await assert.rejects(guard.run(callOf(spec, variant.message), backend.execute), (error) =>
          assertGatewayError(error, Code.FailedPrecondition, "IDEMPOTENT_PARAMETER_MISMATCH", false),
        );
      }
      assert.equal(backend.runs(), 1, "a mismatch never executes");
      // The original request still replays.
      await guard.run(callOf(spec, spec.base), backend.execute);
      assert.equal(backend.runs(), 1);
    });
  }

  test("a mismatch is refused while the first call is still in flight too", async () => {
    const { guard } = setup();
    let finish: (value: MessageShape<DeleteOut>) => void = () => {};
    const first = guard.run(deleteCall(), () => new Promise((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const changed = create(DeleteRamPermissionRequestSchema, {
      ...deleteRequest,
      permissionArn: `${deleteRequest.permissionArn}2`,
    });
    const backend = counted(async () => deleteResponse);
    await assert.rejects(guard.run(callOf<DeleteIn, DeleteOut>(deleteSpec, changed), backend.execute), (error) =>
      assertGatewayError(error, Code.FailedPrecondition, "IDEMPOTENT_PARAMETER_MISMATCH", false),
    );
    finish(deleteResponse);
    await first;
    assert.equal(backend.runs(), 0);
  });

  test("tokens are scoped by caller (x-caller-id) and by RPC", async () => {
    const { guard } = setup();
    const backend = counted(async () => deleteResponse);
    await guard.run(deleteCall({ callerId: "svc-a" }), backend.execute);
    await guard.run(deleteCall({ callerId: "svc-b" }), backend.execute);
    await guard.run(deleteCall(), backend.execute); // anonymous
    assert.equal(backend.runs(), 3);
    const otherRpc = { ...deleteCall({ callerId: "svc-a" }), rpc: `${PermissionService.typeName}/Other` };
    await guard.run(otherRpc, backend.execute);
    assert.equal(backend.runs(), 4);
    await guard.run(deleteCall({ callerId: "svc-a" }), backend.execute);
    assert.equal(backend.runs(), 4);
  });

  test("a custom identify() replaces the header", async () => {
    const { guard, entries } = setup({ identify: () => "tenant-42" });
    await guard.run(deleteCall({ callerId: "ignored" }), async () => deleteResponse);
    const key = idempotencyRecordKey({ callerId: "tenant-42", rpc: deleteCall().rpc, token: "token-1" });
    assert.ok(entries.has(key));
  });

  const definitive = [Code.NotFound, Code.FailedPrecondition, Code.AlreadyExists, Code.InvalidArgument];
  for (const code of definitive) {
    test(`a definitive ${Code[code]} is stored and replayed: code, message, details, metadata`, async () => {
      const { guard } = setup();
      const original = new ConnectError("Permission not found", code, { "x-amzn-requestid": "req-1" }, [
        {
          desc: ErrorInfoSchema,
          value: {
            reason: "RESOURCE_NOT_FOUND",
            domain: "ram.amazonaws.com",
            metadata: { awsErrorCode: "UnknownResourceException" },
          },
        },
        { desc: ResourceInfoSchema, value: { resourceType: "ram:permission", resourceName: "demo" } },
      ]);
      const backend = counted<MessageShape<DeleteOut>>(async () => {
        throw original;
      });
      await assert.rejects(guard.run(deleteCall(), backend.execute), (error) => error === original);
      const retry = deleteCall();
      const replayed = await guard.run(retry, backend.execute).then(
        () => assert.fail("expected the stored error"),
        (error: unknown) => error,
      );
      assert.equal(backend.runs(), 1);
      assert.equal(retry.context.responseHeader.get(REPLAYED_HEADER), "true");
      assert.ok(replayed instanceof ConnectError);
      assert.equal(replayed.code, code);
      assert.equal(replayed.rawMessage, "Permission not found");
      assert.equal(replayed.metadata.get("x-amzn-requestid"), "req-1");
      assert.deepEqual(replayed.findDetails(ErrorInfoSchema), original.findDetails(ErrorInfoSchema));
      assert.deepEqual(replayed.findDetails(ResourceInfoSchema), original.findDetails(ResourceInfoSchema));
      const bytes = (e: ConnectError) =>
        e.details.map((d) => ("desc" in d ? toBinary(d.desc, create(d.desc, d.value)) : d.value));
      assert.deepEqual(bytes(replayed), bytes(original), "detail bytes are identical");
    });
  }

  const transient: [string, () => unknown][] = [
    ["UNAVAILABLE", () => new ConnectError("down", Code.Unavailable)],
    ["RESOURCE_EXHAUSTED", () => new ConnectError("throttled", Code.ResourceExhausted)],
    ["DEADLINE_EXCEEDED", () => new ConnectError("slow", Code.DeadlineExceeded)],
    ["CANCELLED", () => new ConnectError("gone", Code.Canceled)],
    ["INTERNAL", () => new ConnectError("bug", Code.Internal)],
    ["PERMISSION_DENIED", () => new ConnectError("denied", Code.PermissionDenied)],
    ["a plain Error", () => new Error("not mapped")],
  ];
  for (const [name, makeError] of transient) {
    test(`a transient outcome (${name}) releases the token: the retry runs again`, async () => {
      const { guard, entries } = setup();
      let fail = true;
      const backend = counted(async () => {
        if (fail) throw makeError();
        return deleteResponse;
      });
      await assert.rejects(guard.run(deleteCall(), backend.execute));
      assert.equal(entries.size, 0, "nothing remembered");
      fail = false;
      const retry = deleteCall();
      assert.deepEqual(await guard.run(retry, backend.execute), deleteResponse);
      assert.equal(backend.runs(), 2);
      assert.equal(retry.context.responseHeader.get(REPLAYED_HEADER), null);
    });
  }

  test("an in-flight duplicate waits for the owner and replays its outcome", async () => {
    const { guard } = setup({ maxWaitMs: 5_000 });
    let finish: (value: MessageShape<DeleteOut>) => void = () => {};
    const backend = counted(() => new Promise<MessageShape<DeleteOut>>((resolve) => (finish = resolve)));
    const first = guard.run(deleteCall(), backend.execute);
    await new Promise((resolve) => setImmediate(resolve));
    const duplicateCall = deleteCall();
    const duplicate = guard.run(duplicateCall, backend.execute);
    // The duplicate found the owner in this process and waits for its word
    // (no I/O on the way: one turn of the event loop gets it there).
    await new Promise((resolve) => setImmediate(resolve));
    finish(deleteResponse);
    const [a, b] = await Promise.all([first, duplicate]);
    assert.equal(backend.runs(), 1);
    assert.deepEqual(b, a);
    assert.equal(duplicateCall.context.responseHeader.get(REPLAYED_HEADER), "true");
  });

  test("an in-flight duplicate gives up after maxWaitMs with ABORTED + RetryInfo", async () => {
    const { guard } = setup({ maxWaitMs: 100 });
    let finish: (value: MessageShape<DeleteOut>) => void = () => {};
    const first = guard.run(deleteCall(), () => new Promise((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const backend = counted(async () => deleteResponse);
    await assert.rejects(guard.run(deleteCall(), backend.execute), (error) =>
      assertGatewayError(error, Code.Aborted, "IDEMPOTENCY_REQUEST_IN_FLIGHT", true),
    );
    assert.equal(backend.runs(), 0);
    finish(deleteResponse);
    await first;
  });

  test("an in-flight duplicate waits no longer than its own deadline", async () => {
    const { guard } = setup({ maxWaitMs: 60_000 });
    let finish: (value: MessageShape<DeleteOut>) => void = () => {};
    const first = guard.run(deleteCall(), () => new Promise((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    await assert.rejects(
      guard.run(deleteCall({ timeoutMs: 300 }), async () => deleteResponse),
      (error) => assertGatewayError(error, Code.Aborted, "IDEMPOTENCY_REQUEST_IN_FLIGHT", true),
    );
    // 300 ms deadline vs 60 s maxWaitMs: 2 s leaves a noisy machine room.
    assert.ok(Date.now() - started < 2_000, "promptly, bounded by the deadline rather than maxWaitMs");
    finish(deleteResponse);
    await first;
  });

  test("when the owner fails transiently, a waiting duplicate claims the token and runs it", async () => {
    const { guard } = setup({ maxWaitMs: 5_000 });
    let fail: (error: unknown) => void = () => {};
    const first = guard.run(deleteCall(), () => new Promise<MessageShape<DeleteOut>>((_, reject) => (fail = reject)));
    await new Promise((resolve) => setImmediate(resolve));
    const backend = counted(async () => deleteResponse);
    const duplicate = guard.run(deleteCall(), backend.execute);
    await new Promise((resolve) => setImmediate(resolve)); // the duplicate waits for the owner
    fail(new ConnectError("throttled", Code.ResourceExhausted));
    await assert.rejects(first);
    assert.deepEqual(await duplicate, deleteResponse);
    assert.equal(backend.runs(), 1);
  });

  test("the claim's lease is leaseMs, whatever the caller's deadline", async () => {
    const { guard, store } = setup({ leaseMs: 2_000 });
    let finish: (value: MessageShape<DeleteOut>) => void = () => {};
    const running = guard.run(deleteCall({ timeoutMs: 600_000 }), () => new Promise((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const record = await store.read(recordKey());
    assert.ok(
      record?.state === "in_progress" && record.leaseRemainingMs <= 2_000 && record.leaseRemainingMs > 0,
      "one lease",
    );
    finish(deleteResponse);
    await running;
  });

  test("a failing store fails closed with UNAVAILABLE before execute", async () => {
    const broken = storeWith({
      claim: async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:6390");
      },
    });
    const { guard, logger } = setup({ store: broken });
    const backend = counted(async () => deleteResponse);
    await assert.rejects(guard.run(deleteCall(), backend.execute), (error) =>
      assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_STORE_UNAVAILABLE", true),
    );
    assert.equal(backend.runs(), 0);
    assert.ok(logger.lines.some((line) => line.level === "warn" && /failing closed/.test(line.message)));
  });

  test("a slow store fails closed with UNAVAILABLE after storeTimeoutMs", async () => {
    const abandoned: string[] = [];
    const hanging = storeWith({
      claim: () => new Promise(() => {}),
      abandon: async ({ owner }) => {
        abandoned.push(owner);
        return "missing";
      },
    });
    const { guard } = setup({ store: hanging, storeTimeoutMs: 100 });
    const backend = counted(async () => deleteResponse);
    await assert.rejects(guard.run(deleteCall(), backend.execute), (error) =>
      assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_STORE_UNAVAILABLE", true),
    );
    assert.equal(backend.runs(), 0);
    // Abandoned, not released: a lost claim may have been the takeover of an attempt that reached AWS.
    assert.equal(abandoned.length, 1, "a claim that may have landed late is given back for a takeover");
  });

  test("a corrupt record fails closed with UNAVAILABLE and is logged as an error", async () => {
    const { guard, entries, logger } = setup();
    entries.set(recordKey(), { encoded: "{garbage", expiresAt: Date.now() + 60_000 });
    const backend = counted(async () => deleteResponse);
    await assert.rejects(guard.run(deleteCall(), backend.execute), (error) =>
      assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_STORE_UNAVAILABLE", true),
    );
    assert.equal(backend.runs(), 0);
    assert.ok(logger.lines.some((line) => line.level === "error" && /corrupt/.test(line.message)));
  });

  test("if only the final write fails, the caller still gets the success and a warning is logged", async () => {
    const flaky = storeWith({
      complete: async () => {
        throw new Error("Connection is closed.");
      },
    });
    const { guard, logger } = setup({ store: flaky });
    const backend = counted(async () => deleteResponse);
    assert.deepEqual(await guard.run(deleteCall(), backend.execute), deleteResponse);
    assert.equal(backend.runs(), 1);
    assert.ok(logger.lines.some((line) => line.level === "warn" && /not recorded/.test(line.message)));
  });

  test("the guard does no validation of its own: any request and token are remembered as given", async () => {
    const { guard } = setup();
    const empty = create(DeleteRamPermissionRequestSchema, {});
    const backend = counted(async () => deleteResponse);
    const call = callOf<DeleteIn, DeleteOut>(deleteSpec, empty, { token: " odd token \u00e9 " });
    await guard.run(call, backend.execute);
    await guard.run(callOf<DeleteIn, DeleteOut>(deleteSpec, empty, { token: " odd token \u00e9 " }), backend.execute);
    assert.equal(backend.runs(), 1);
  });

  test("the owner's backend call ends at maxExecutionMs, so a duplicate never runs alongside it", async () => {
    // Execution bound 1 s, caller deadline 10 s, backend 4 s: the owner is
    // cut at 1 s, and only then does the waiting duplicate run the call.
    const { guard } = setup({ leaseMs: 1_000, maxExecutionMs: 1_000, maxWaitMs: 10_000 });
    const backend = createFakeBackend();
    const { permission } = parseDeleteRamPermissionRequest(deleteRequest);
    let running = 0;
    let overlapped = false;
    let executed = 0;
    const execute = async (options: CallOptions) => {
      running += 1;
      overlapped ||= running > 1;
      try {
        const output = await backend.deleteRamPermission({ permission, clientToken: "token-1" }, options);
        executed += 1;
        return create(DeleteRamPermissionResponseSchema, {
          returnValue: output.returnValue,
          clientToken: output.clientToken,
        });
      } catch (error) {
        throw toConnectError(error, { resourceType: "ram:permission", resourceName: permission.name }, silentLogger);
      } finally {
        running -= 1;
      }
    };
    try {
      backend.setFaults({ latencyMs: 4_000 });
      const owner = guard.run(deleteCall({ timeoutMs: 10_000 }), execute);
      await until("the owner's backend call runs", () => running === 1, { intervalMs: 1 });
      // The owner's call already waits out its 4 s; a later call would not.
      backend.setFaults({});
      const duplicate = guard.run(deleteCall({ timeoutMs: 10_000 }), execute);
      const [ownerOutcome, duplicateOutcome] = await Promise.allSettled([owner, duplicate]);
      assert.equal(ownerOutcome.status, "rejected");
      const ownerError = ConnectError.from(ownerOutcome.reason);
      assert.equal(ownerError.code, Code.DeadlineExceeded, ownerError.message);
      assert.equal(duplicateOutcome.status, "fulfilled", "the released token was claimed by the duplicate");
      assert.equal(executed, 1, "the backend executed the call once");
      assert.equal(overlapped, false, "never two calls at once");
    } finally {
      await backend.close();
    }
  });

  test("execute gets the caller's signal and a deadline no later than the caller's or maxExecutionMs", async () => {
    const { guard } = setup({ maxExecutionMs: 30_000 });
    const seen: CallOptions[] = [];
    const record = async (options: CallOptions) => {
      seen.push(options);
      return deleteResponse;
    };
    const controller = new AbortController();
    const before = Date.now();
    await guard.run(deleteCall({ token: "a", timeoutMs: 5_000, signal: controller.signal }), record);
    await guard.run(deleteCall({ token: "b" }), record);
    const [withDeadline, withoutDeadline] = seen;
    assert.ok(
      withDeadline?.deadline !== undefined && withoutDeadline?.deadline !== undefined,
      "execute got a deadline",
    );
    assert.ok(withDeadline.deadline > before && withDeadline.deadline <= Date.now() + 5_000, "the caller's deadline");
    assert.ok(withoutDeadline.deadline > before && withoutDeadline.deadline <= Date.now() + 30_000, "maxExecutionMs");
    assert.equal(withDeadline.afterTakeover, false, "a fresh claim is no takeover");
    assert.equal(withDeadline.signal.aborted, false);
    // The caller cancelling while the backend call runs reaches the backend.
    const cancelled = new AbortController();
    let seenAborted: boolean | undefined;
    await guard
      .run(deleteCall({ token: "c", signal: cancelled.signal }), async (options) => {
        cancelled.abort();
        seenAborted = options.signal.aborted;
        return deleteResponse;
      })
      .catch(() => undefined);
    assert.equal(seenAborted, true, "the caller cancelling reaches the backend");
  });

  test("store calls are bounded by the caller's deadline, not only by storeTimeoutMs", async () => {
    const hanging = storeWith({ claim: () => new Promise(() => {}) });
    const { guard, logger } = setup({ store: hanging, storeTimeoutMs: 10_000 });
    const backend = counted(async () => deleteResponse);
    const started = Date.now();
    await assert.rejects(guard.run(deleteCall({ timeoutMs: 300 }), backend.execute), (error) =>
      assertGatewayError(error, Code.DeadlineExceeded, "DEADLINE_EXCEEDED", false),
    );
    assert.ok(Date.now() - started < 5_000, "promptly: the 300 ms deadline, not the 10 s store timeout");
    assert.equal(backend.runs(), 0);
    assert.ok(!logger.lines.some((line) => line.level === "warn"), "a short deadline is not a store failure");
  });

  test("a duplicate whose wait budget is spent answers ABORTED instead of claiming again", async () => {
    let claims = 0;
    const store = storeWith({
      claim: async () => {
        claims += 1;
        return claims === 1 ? { kind: "in_flight", leaseRemainingMs: 5_000 } : { kind: "claimed" };
      },
      // The owner's release is seen only after the 100 ms wait budget.
      read: async () => {
        clock.advance(200);
        return undefined;
      },
    });
    const clock = manualClock();
    const { guard } = setup({ store, clock, maxWaitMs: 100 });
    const backend = counted(async () => deleteResponse);
    await assert.rejects(guard.run(deleteCall(), backend.execute), (error) =>
      assertGatewayError(error, Code.Aborted, "IDEMPOTENCY_REQUEST_IN_FLIGHT", true),
    );
    assert.equal(claims, 1, "no second claim");
    assert.equal(backend.runs(), 0);
  });

  test("a duplicate cancelled while it waits gets CANCELLED with the gateway's ErrorInfo", async () => {
    const { guard } = setup({ maxWaitMs: 10_000 });
    let finish: (value: MessageShape<DeleteOut>) => void = () => {};
    const first = guard.run(deleteCall(), () => new Promise((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const caller = new AbortController();
    const duplicate = guard.run(deleteCall({ signal: caller.signal }), async () => deleteResponse);
    await new Promise((resolve) => setImmediate(resolve)); // the duplicate waits for the owner
    caller.abort();
    await assert.rejects(duplicate, (error) => assertGatewayError(error, Code.Canceled, "CANCELLED", false));
    finish(deleteResponse);
    await first;
  });

  describe("a record stored by an older replica (v1 fingerprint, rolling upgrade)", () => {
    const v1 = requestFingerprint(DeleteRamPermissionRequestSchema, deleteRequest, "clientToken", 1);
    const lease = { key: recordKey(), fingerprint: v1, owner: "older-replica", leaseMs: 30_000, ttlMs: 60_000 };

    test("completed: the same request replays it (one extra read), another is refused", async () => {
      const { store } = setup();
      const { outcomes, observer } = recordingObserver();
      const { guard } = setup({ store, observer });
      await store.claim(lease);
      const stored = create(DeleteRamPermissionResponseSchema, { returnValue: true, clientToken: "from-v1" });
      const outcome = { kind: "response" as const, response: toBinary(DeleteRamPermissionResponseSchema, stored) };
      assert.equal(await store.complete({ ...lease, outcome }), "applied");
      const backend = counted(async () => deleteResponse);
      const call = deleteCall();
      assert.equal((await guard.run(call, backend.execute)).clientToken, "from-v1");
      assert.equal(call.context.responseHeader.get(REPLAYED_HEADER), "true");
      const changed = create(DeleteRamPermissionRequestSchema, { ...deleteRequest, permissionArn: "arn:x" });
      await assert.rejects(guard.run(callOf<DeleteIn, DeleteOut>(deleteSpec, changed), backend.execute), (error) =>
        assertGatewayError(error, Code.FailedPrecondition, "IDEMPOTENT_PARAMETER_MISMATCH", false),
      );
      assert.equal(backend.runs(), 0);
      assert.deepEqual(outcomes, ["replayed", "mismatch"]);
    });

    test("abandoned: the same request takes it over and completes it under the v1 fingerprint", async () => {
      const { store } = setup();
      const { outcomes, observer } = recordingObserver();
      const { guard } = setup({ store, observer });
      await store.claim(lease);
      assert.equal(await store.abandon(lease), "applied");
      const seen: CallOptions[] = [];
      const result = await guard.run(deleteCall(), async (options) => {
        seen.push(options);
        return deleteResponse;
      });
      assert.deepEqual(result, deleteResponse);
      assert.equal(seen[0]?.afterTakeover, true);
      assert.deepEqual(outcomes, ["reclaimed"]);
      const record = await store.read(lease.key);
      assert.equal(record?.state, "completed");
      assert.equal(record?.fingerprint, v1, "an older replica still recognises the record");
    });

    test("abandoned, and the takeover's claim answer is lost: abandoned again, so the next claim is still a takeover", async () => {
      // Found by the chaos drill: a lost claim used to be released (deleted),
      // and the next claim, a fresh one, answered the earlier attempt's change as a conflict.
      const base = setup().store;
      await base.claim(lease);
      assert.equal(await base.abandon(lease), "applied");
      let loseNextClaim = true;
      let abandons = 0;
      const store: IdempotencyStore = {
        ...base,
        claim: async (input) => {
          const result = await base.claim(input);
          if (!loseNextClaim) return result;
          loseNextClaim = false;
          return new Promise<never>(() => {});
        },
        abandon: async (input) => {
          abandons += 1;
          return base.abandon(input);
        },
      };
      const { guard } = setup({ store, storeTimeoutMs: 100 });
      const seen: CallOptions[] = [];
      const execute = async (options: CallOptions) => {
        seen.push(options);
        return deleteResponse;
      };
      await assert.rejects(guard.run(deleteCall(), execute), (error) =>
        assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_STORE_UNAVAILABLE", true),
      );
      await until("the lost claim is abandoned", async () => abandons === 1);
      assert.deepEqual(await guard.run(deleteCall(), execute), deleteResponse);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.afterTakeover, true, "the earlier attempt may have reached AWS: the retry reconciles");
    });

    test("in flight: a duplicate waits for the older replica's owner and replays its outcome", async () => {
      const counting = countingStore(setup().store);
      const { outcomes, observer } = recordingObserver();
      const { guard } = setup({ store: counting.store, observer });
      const { store } = counting;
      await store.claim(lease);
      const backend = counted(async () => deleteResponse);
      const duplicate = guard.run(deleteCall(), backend.execute);
      // The duplicate polls the record: it found the v1 record in flight and matched it.
      await until("the duplicate polls the owner's record", () => (counting.counts.read ?? 0) >= 1, { intervalMs: 1 });
      const outcome = {
        kind: "response" as const,
        response: toBinary(DeleteRamPermissionResponseSchema, deleteResponse),
      };
      assert.equal(await store.complete({ ...lease, outcome }), "applied");
      assert.deepEqual(await duplicate, deleteResponse);
      assert.equal(backend.runs(), 0);
      assert.deepEqual(outcomes, ["waited"]);
    });
  });

  test("a stored response whose bytes do not decode fails closed with UNAVAILABLE, never INTERNAL", async () => {
    const { guard, store, logger } = setup();
    const key = recordKey();
    const fingerprint = requestFingerprint(DeleteRamPermissionRequestSchema, deleteRequest, "clientToken");
    await store.claim({ key, fingerprint, owner: "o", leaseMs: 1_000, ttlMs: 60_000 });
    // Field 2 (client_token) announces 16 bytes and carries one.
    const outcome = { kind: "response" as const, response: new Uint8Array([0x12, 0x10, 0x61]) };
    assert.equal(await store.complete({ key, owner: "o", fingerprint, outcome, ttlMs: 60_000 }), "applied");
    const backend = counted(async () => deleteResponse);
    const call = deleteCall();
    await assert.rejects(guard.run(call, backend.execute), (error) =>
      assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_STORE_UNAVAILABLE", true),
    );
    assert.equal(backend.runs(), 0, "not executed again");
    assert.equal(call.context.responseHeader.get(REPLAYED_HEADER), null);
    assert.ok(
      logger.lines.some((line) => line.level === "error" && /corrupt/.test(line.message)),
      "logged as corrupt",
    );
  });
});
