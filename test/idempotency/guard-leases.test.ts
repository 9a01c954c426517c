// The owner's side of the guard: a lease renewed while the call runs, the
// call stopped when it cannot be, takeovers marked for the backend, records
// kept for a takeover when an outcome is unknown, and store writes retried
// until they land (and waited for by settle()).
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallOptions } from "../../src/backend/backend.js";
import { systemClock } from "../../src/clock.js";
import { gatewayError, OUTCOME_UNKNOWN_REASON } from "../../src/errors.js";
import { requestFingerprint } from "../../src/idempotency/fingerprint.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import type { FencedWriteResult } from "../../src/idempotency/store.js";
import { DeleteRamPermissionRequestSchema } from "../../gen/permission/v1/permission_pb.js";
import {
  assertGatewayError,
  cleanUpGuards,
  counted,
  countingStore,
  deleteCall,
  deleteRequest,
  deleteResponse,
  recordingObserver,
  recordKey,
  setup,
  storeWith,
  untilAborted,
} from "./guard-harness.js";
import { until } from "../support/eventually.js";

afterEach(cleanUpGuards);

const fingerprint = requestFingerprint(DeleteRamPermissionRequestSchema, deleteRequest, "clientToken");

/** Leaves the token claimed by an owner that died: its 1 ms lease has run out. */
async function claimedByDeadOwner(store: ReturnType<typeof setup>["store"]): Promise<void> {
  await store.claim({ key: recordKey(), fingerprint, owner: "dead-owner", leaseMs: 1, ttlMs: 60_000 });
  await until(
    "the dead owner's lease runs out",
    async () => {
      const record = await store.read(recordKey());
      return record?.state === "in_progress" && record.leaseRemainingMs === 0;
    },
    { intervalMs: 1 },
  );
}

function outcomeUnknown(): ConnectError {
  return gatewayError(Code.Unavailable, "AWS may have executed the call", OUTCOME_UNKNOWN_REASON, []);
}

describe("leases", () => {
  test("a call that runs past several leases renews its own: a duplicate on another replica waits and replays", async () => {
    const shared = createMemoryIdempotencyStore({ clock: systemClock });
    const watched = recordingObserver();
    const owner = setup({ store: shared, leaseMs: 300, observer: watched.observer });
    const polled = countingStore(shared);
    const other = setup({ store: polled.store, leaseMs: 300, maxWaitMs: 10_000 });
    let finish: () => void = () => {};
    const backend = counted(
      () => new Promise<typeof deleteResponse>((resolve) => (finish = () => resolve(deleteResponse))),
    );
    const running = owner.guard.run(deleteCall(), backend.execute);
    const renewedSoFar = () => watched.commands.filter((c) => c.operation === "renew" && !c.failed).length;
    await until("the owner renews its lease past three leases (every 100 ms)", () => renewedSoFar() >= 10, {
      intervalMs: 10,
    });
    const record = await shared.read(recordKey());
    assert.ok(record?.state === "in_progress" && record.leaseRemainingMs > 0, "the lease is still live");
    const duplicate = other.guard.run(deleteCall(), backend.execute);
    await until("the duplicate polls the owner's record", () => (polled.counts.read ?? 0) >= 2, { intervalMs: 5 });
    finish();
    assert.deepEqual(await running, deleteResponse);
    assert.deepEqual(await duplicate, deleteResponse);
    assert.equal(backend.runs(), 1, "never a takeover while the owner lived");
    const renewals = watched.commands.filter((c) => c.operation === "renew" && !c.failed).length;
    assert.ok(renewals >= 3, `renewed ${renewals} times`);
  });

  test("a renewal that fails stops the call: UNAVAILABLE IDEMPOTENCY_LEASE_LOST, and the token is kept for a takeover", async () => {
    const { guard, store } = setup({
      leaseMs: 300,
      store: storeWith({
        renew: async () => {
          throw new Error("Command timed out");
        },
      }),
    });
    const seen: CallOptions[] = [];
    await assert.rejects(guard.run(deleteCall(), untilAborted(seen)), (error) =>
      assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_LEASE_LOST", true),
    );
    const reason: unknown = seen[0]?.signal.reason;
    assert.ok(reason instanceof DOMException && reason.name === "TimeoutError", "the backend reads it as a deadline");
    const record = await store.read(recordKey());
    assert.ok(record?.state === "in_progress" && record.leaseRemainingMs === 0, "abandoned, not released or stored");
    const retry: CallOptions[] = [];
    await guard.run(deleteCall(), async (options) => {
      retry.push(options);
      return deleteResponse;
    });
    assert.equal(retry[0]?.afterTakeover, true, "the retry reconciles");
  });

  test("a renewal that finds the token taken over stops the call at once", async () => {
    const { guard } = setup({ leaseMs: 3_000, store: storeWith({ renew: async () => "not_owner" }) });
    const seen: CallOptions[] = [];
    await assert.rejects(guard.run(deleteCall(), untilAborted(seen)), (error) =>
      assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_LEASE_LOST", true),
    );
    assert.equal(seen[0]?.signal.aborted, true);
  });

  test("a backend that answered success keeps its success though the lease was lost meanwhile; the write is fenced", async () => {
    const completes: FencedWriteResult[] = [];
    const memory = createMemoryIdempotencyStore({ clock: systemClock });
    const { guard } = setup({
      leaseMs: 300,
      store: storeWith({
        renew: async () => "not_owner",
        complete: async (input) => {
          const result = await memory.complete(input);
          completes.push(result);
          return result;
        },
      }),
    });
    const answer = await guard.run(
      deleteCall(),
      (options) =>
        new Promise((resolve) =>
          options.signal.addEventListener("abort", () => resolve(deleteResponse), { once: true }),
        ),
    );
    assert.deepEqual(answer, deleteResponse);
    assert.equal(completes.length, 1, "the completion was tried (and fenced by the store)");
  });

  test("the renewal interval defaults to a third of the lease", async () => {
    const watched = recordingObserver();
    const { guard } = setup({ leaseMs: 600, observer: watched.observer });
    await guard.run(deleteCall(), async () => {
      await sleep(1_000);
      return deleteResponse;
    });
    const renewals = watched.commands.filter((c) => c.operation === "renew").length;
    // 1 s at 200 ms: about 5; a loaded machine may fit fewer, never many more.
    assert.ok(renewals >= 2 && renewals <= 6, `renewed ${renewals} times`);
  });
});

describe("takeovers", () => {
  test("a takeover of an expired lease passes afterTakeover to execute and is reported as reclaimed", async () => {
    const watched = recordingObserver();
    const { guard, store } = setup({ observer: watched.observer });
    await claimedByDeadOwner(store);
    const seen: CallOptions[] = [];
    await guard.run(deleteCall(), async (options) => {
      seen.push(options);
      return deleteResponse;
    });
    assert.equal(seen[0]?.afterTakeover, true);
    assert.deepEqual(watched.outcomes, ["reclaimed"]);
  });

  test("an outcome-unknown error keeps the record for a takeover; the retry reconciles and is stored", async () => {
    const { guard, store } = setup();
    await assert.rejects(
      guard.run(deleteCall(), async () => Promise.reject(outcomeUnknown())),
      (error) => assertGatewayError(error, Code.Unavailable, OUTCOME_UNKNOWN_REASON, false),
    );
    const record = await store.read(recordKey());
    assert.ok(record?.state === "in_progress" && record.leaseRemainingMs === 0, "abandoned: kept, lease ended");
    const seen: CallOptions[] = [];
    await guard.run(deleteCall(), async (options) => {
      seen.push(options);
      return deleteResponse;
    });
    assert.equal(seen[0]?.afterTakeover, true);
    assert.equal((await store.read(recordKey()))?.state, "completed");
  });

  test("a takeover that fails transiently keeps the token for the next takeover, not for a fresh claim", async () => {
    const { guard, store } = setup();
    await claimedByDeadOwner(store);
    await assert.rejects(
      guard.run(deleteCall(), async () => Promise.reject(new ConnectError("throttled", Code.ResourceExhausted))),
    );
    const seen: CallOptions[] = [];
    await guard.run(deleteCall(), async (options) => {
      seen.push(options);
      return deleteResponse;
    });
    assert.equal(seen[0]?.afterTakeover, true, "still a takeover");
  });

  test("a transient error on a fresh claim releases it: the retry is a fresh claim", async () => {
    const { guard, store } = setup();
    await assert.rejects(
      guard.run(deleteCall(), async () => Promise.reject(new ConnectError("throttled", Code.ResourceExhausted))),
    );
    assert.equal(await store.read(recordKey()), undefined);
  });
});

describe("store writes that fail", () => {
  test("a release that fails is retried with backoff until it lands; settle() waits for it", async () => {
    let releases = 0;
    const memory = createMemoryIdempotencyStore({ clock: systemClock });
    const { guard } = setup({
      store: storeWith({
        claim: (input) => memory.claim(input),
        read: (key) => memory.read(key),
        release: async (input) => {
          releases += 1;
          if (releases <= 2) throw new Error("Connection is closed.");
          return memory.release(input);
        },
      }),
    });
    await assert.rejects(
      guard.run(deleteCall(), async () => Promise.reject(new ConnectError("down", Code.Unavailable))),
    );
    assert.equal((await memory.read(recordKey()))?.state, "in_progress", "the first release failed");
    assert.equal(await guard.settle(30_000), 0, "nothing left pending");
    assert.equal(releases, 3);
    assert.equal(await memory.read(recordKey()), undefined, "released in the end");
  });

  test("a call cut by its signal releases its claim before settle() resolves (the shutdown order)", async () => {
    const memory = createMemoryIdempotencyStore({ clock: systemClock });
    let releases = 0;
    const { guard } = setup({
      store: storeWith({
        claim: (input) => memory.claim(input),
        release: async (input) => {
          releases += 1;
          // The first try is lost, as to a store busy with the shutdown.
          if (releases === 1) throw new Error("Command timed out");
          await sleep(200);
          return memory.release(input);
        },
      }),
    });
    const caller = new AbortController();
    const seen: CallOptions[] = [];
    const running = guard.run(deleteCall({ signal: caller.signal }), untilAborted(seen));
    await until("the call runs", () => seen.length === 1, { intervalMs: 1 });
    caller.abort(); // the server cutting the call
    await assert.rejects(running);
    assert.equal(await guard.settle(30_000), 0);
    assert.equal(await memory.read(recordKey()), undefined, "no in_progress record once settle() resolved");
  });

  test("settle() is bounded: a store that never answers does not hold shutdown up", async () => {
    const { guard } = setup({
      storeTimeoutMs: 100,
      store: storeWith({ release: () => new Promise<FencedWriteResult>(() => {}) }),
    });
    await assert.rejects(
      guard.run(deleteCall(), async () => Promise.reject(new ConnectError("down", Code.Unavailable))),
    );
    assert.ok((await guard.settle(300)) >= 1, "still pending when the bound ran out");
  });

  test("a completion that fails is retried in the background; the caller is not kept waiting for it", async () => {
    let completes = 0;
    const memory = createMemoryIdempotencyStore({ clock: systemClock });
    const { guard } = setup({
      store: storeWith({
        claim: (input) => memory.claim(input),
        renew: (input) => memory.renew(input),
        read: (key) => memory.read(key),
        complete: async (input) => {
          completes += 1;
          if (completes === 1) throw new Error("Command timed out");
          return memory.complete(input);
        },
      }),
    });
    assert.deepEqual(await guard.run(deleteCall(), async () => deleteResponse), deleteResponse);
    assert.equal(await guard.settle(30_000), 0);
    assert.equal((await memory.read(recordKey()))?.state, "completed", "recorded by the retry");
  });
});
