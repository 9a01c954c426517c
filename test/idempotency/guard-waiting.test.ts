// Duplicates of a running call wait without hammering the store: on the
// owner's replica they are woken by the owner itself (no store command
// while it runs), elsewhere they poll with backoff and jitter, and a failed
// read does not fail them. Every call's outcome reaches the observer once.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { systemClock } from "../../src/clock.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import { DeleteRamPermissionRequestSchema } from "../../gen/permission/v1/permission_pb.js";
import {
  assertGatewayError,
  callOf,
  cleanUpGuards,
  countingStore,
  deleteCall,
  deleteRequest,
  deleteResponse,
  deleteSpec,
  recordingObserver,
  setup,
  storeWith,
} from "./guard-harness.js";
import type { DeleteIn, DeleteOut } from "./guard-harness.js";
import { until } from "../support/eventually.js";

afterEach(cleanUpGuards);

const OWNER_MS = 1_000;
const N = 100;

async function slowOwner(): Promise<typeof deleteResponse> {
  await sleep(OWNER_MS);
  return deleteResponse;
}

/** An execute that says when the owner's call has begun (so it holds the claim), then runs `body`. */
function owning<T>(body: () => Promise<T>): { started: Promise<void>; execute: () => Promise<T> } {
  let begin: () => void = () => {};
  const started = new Promise<void>((resolve) => (begin = resolve));
  return {
    started,
    execute: () => {
      begin();
      return body();
    },
  };
}

describe("waiting duplicates", () => {
  test(`${N} concurrent duplicates on the owner's replica: no store command while the owner runs`, async (t) => {
    const counting = countingStore(createMemoryIdempotencyStore({ clock: systemClock }));
    const watched = recordingObserver();
    const { guard } = setup({ store: counting.store, maxWaitMs: 10_000, observer: watched.observer });
    let executions = 0;
    const execute = async () => {
      executions += 1;
      return slowOwner();
    };
    const running = Promise.all(Array.from({ length: N }, () => guard.run(deleteCall(), execute)));
    await sleep(OWNER_MS / 2);
    const midway = { ...counting.counts };
    const answers = await running;
    assert.equal(executions, 1);
    assert.ok(answers.every((answer) => answer.returnValue));
    t.diagnostic(`store commands for ${N} duplicates of a ${OWNER_MS} ms call: ${JSON.stringify(counting.counts)}`);
    // Each claimed once (one won, the rest found it in flight), then waited
    // for the owner's word: no command at all while it ran.
    assert.deepEqual(midway, { claim: N });
    // Once woken, each read the outcome once.
    assert.deepEqual(counting.counts, { claim: N, complete: 1, read: N - 1 });
    assert.equal(watched.outcomes.filter((o) => o === "claimed").length, 1);
    assert.equal(watched.outcomes.filter((o) => o === "waited").length, N - 1);
  });

  test("duplicates on another replica poll with backoff, far below a 50 ms poll", async (t) => {
    const shared = createMemoryIdempotencyStore({ clock: systemClock });
    const counting = countingStore(shared);
    const owner = setup({ store: shared });
    const other = setup({ store: counting.store, maxWaitMs: 10_000, pollMinMs: 25, pollMaxMs: 1_000 });
    const ownerCall = owning(slowOwner);
    const running = owner.guard.run(deleteCall(), ownerCall.execute);
    await ownerCall.started;
    const waiters = 20;
    const answers = await Promise.all(
      Array.from({ length: waiters }, () => other.guard.run(deleteCall(), async () => assert.fail("never runs"))),
    );
    await running;
    assert.ok(answers.every((answer) => answer.returnValue));
    const reads = counting.counts["read"] ?? 0;
    t.diagnostic(
      `${waiters} waiters on another replica, ${OWNER_MS} ms owner: ${reads} reads (a 50 ms poll: about ${waiters * (OWNER_MS / 50)})`,
    );
    // The delays double from 12.5-25 ms: at most ~7 reads each within a second.
    assert.ok(reads <= waiters * 8, `${reads} reads`);
  });

  test("one failed read during the wait does not fail the waiter", async () => {
    const shared = createMemoryIdempotencyStore({ clock: systemClock });
    let reads = 0;
    const owner = setup({ store: shared });
    const other = setup({
      maxWaitMs: 10_000,
      store: storeWith({
        claim: (input) => shared.claim(input),
        read: async (key) => {
          reads += 1;
          if (reads === 1) throw new Error("Command timed out");
          return shared.read(key);
        },
      }),
    });
    // The owner finishes once the waiter's first read has failed.
    const ownerCall = owning(async () => {
      await until("the waiter's first read fails", () => reads >= 1, { intervalMs: 1 });
      return deleteResponse;
    });
    const running = owner.guard.run(deleteCall(), ownerCall.execute);
    await ownerCall.started;
    assert.deepEqual(await other.guard.run(deleteCall(), async () => assert.fail("never runs")), deleteResponse);
    await running;
    assert.ok(reads >= 2);
  });

  test("a store that fails for the whole wait ends the waiter as UNAVAILABLE (nothing ran), not ABORTED", async () => {
    const shared = createMemoryIdempotencyStore({ clock: systemClock });
    const owner = setup({ store: shared });
    const other = setup({
      maxWaitMs: 300,
      store: storeWith({
        claim: (input) => shared.claim(input),
        read: async () => Promise.reject(new Error("Connection is closed.")),
      }),
    });
    let finish: () => void = () => {};
    const ownerCall = owning(
      () => new Promise<typeof deleteResponse>((resolve) => (finish = () => resolve(deleteResponse))),
    );
    const running = owner.guard.run(deleteCall(), ownerCall.execute);
    await ownerCall.started;
    await assert.rejects(
      other.guard.run(deleteCall(), async () => assert.fail("never runs")),
      (error) => assertGatewayError(error, Code.Unavailable, "IDEMPOTENCY_STORE_UNAVAILABLE", true),
    );
    finish();
    await running;
  });
});

describe("observer", () => {
  test("each call's outcome is reported once: claimed, replayed, mismatch, waited, in_flight, store_error", async () => {
    const watched = recordingObserver();
    const { guard } = setup({ maxWaitMs: 100, observer: watched.observer });
    await guard.run(deleteCall(), async () => deleteResponse); // claimed
    await guard.run(deleteCall(), async () => deleteResponse); // replayed
    const changed = create(DeleteRamPermissionRequestSchema, {
      ...deleteRequest,
      permissionArn: `${deleteRequest.permissionArn}2`,
    });
    await assert.rejects(guard.run(callOf<DeleteIn, DeleteOut>(deleteSpec, changed), async () => deleteResponse)); // mismatch
    let finish: () => void = () => {};
    const ownerCall = owning(
      () => new Promise<typeof deleteResponse>((resolve) => (finish = () => resolve(deleteResponse))),
    );
    const running = guard.run(deleteCall({ token: "t2" }), ownerCall.execute); // claimed
    await ownerCall.started;
    await assert.rejects(guard.run(deleteCall({ token: "t2" }), async () => deleteResponse)); // in_flight (100 ms wait)
    const waiting = guard.run(deleteCall({ token: "t2" }), async () => deleteResponse); // waited
    finish();
    await Promise.all([running, waiting]);
    const broken = setup({
      observer: watched.observer,
      store: storeWith({ claim: async () => Promise.reject(new Error("down")) }),
    });
    await assert.rejects(broken.guard.run(deleteCall(), async () => deleteResponse)); // store_error
    // Reported as each call ends: the second owner ends after its duplicates gave up.
    assert.deepEqual(watched.outcomes, [
      "claimed",
      "replayed",
      "mismatch",
      "in_flight",
      "claimed",
      "waited",
      "store_error",
    ]);
    const operations = new Set(watched.commands.map((c) => c.operation));
    assert.ok(operations.has("claim") && operations.has("complete"), [...operations].join(","));
    assert.ok(
      watched.commands.some((c) => c.operation === "claim" && c.failed),
      "failures are reported as such",
    );
    assert.ok(watched.commands.every((c) => c.ms >= 0));
  });

  test("an observer that throws changes nothing for the caller", async () => {
    const { guard } = setup({
      observer: {
        onOutcome: () => {
          throw new Error("metrics broke");
        },
        onStoreCommand: () => {
          throw new ConnectError("metrics broke");
        },
      },
    });
    assert.deepEqual(await guard.run(deleteCall(), async () => deleteResponse), deleteResponse);
  });
});
