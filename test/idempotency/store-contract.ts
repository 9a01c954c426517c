// The one contract every IdempotencyStore adapter must meet. Each adapter's
// test file calls describeIdempotencyStoreContract with a harness factory;
// the harness lets time pass the adapter's way (an injected clock for
// memory, real milliseconds for Redis, whose server time is the only clock)
// and damages records the way an outside writer could.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import type { TestContext } from "node:test";
import { idempotencyRecordKey } from "../../src/idempotency/record-key.js";
import { IdempotencyRecordCorruptError } from "../../src/idempotency/store.js";
import type { IdempotencyOutcome, IdempotencyStore } from "../../src/idempotency/store.js";

export type Corruption =
  /** Not a record at all (Redis: a string where a hash belongs). */
  | "not-a-record"
  | "unknown-state"
  /** In progress with the caller's fingerprint but no lease expiry (Powertools #5678). */
  | "in-progress-without-lease"
  /** Completed with the caller's fingerprint but an outcome that is not JSON. */
  | "outcome-not-json";

export interface StoreHarness {
  readonly store: IdempotencyStore;
  /** Lets `ms` pass as the store sees time. */
  elapse(ms: number): Promise<void>;
  /** Writes a damaged record under `key`; `fingerprint` is the one the test will claim with. */
  corrupt(key: string, how: Corruption, fingerprint: string): Promise<void>;
}

/** Resolves to undefined when the adapter is unavailable (the factory has skipped `t`). */
export type StoreHarnessFactory = (t: TestContext) => Promise<StoreHarness | undefined>;

/** Short enough to wait out in real time, long enough for a noisy machine to do one step. */
const SHORT_MS = 250;
const WAIT_OUT_SHORT_MS = 700;
const LONG_MS = 60_000;
const DAY_MS = 86_400_000;

const responseOutcome = (text: string): IdempotencyOutcome => ({
  kind: "response",
  response: new TextEncoder().encode(text),
});

const errorOutcome: IdempotencyOutcome = {
  kind: "error",
  error: {
    code: 5,
    message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone",
    details: [
      { type: "google.rpc.ErrorInfo", value: new Uint8Array([10, 3, 65, 66, 67, 0, 255]), debug: { reason: "ABC" } },
      { type: "google.rpc.ResourceInfo", value: new Uint8Array([]) },
    ],
    metadata: [
      ["x-amzn-requestid", "7f6c1a1e"],
      ["x-other", "a, b"],
    ],
  },
};

function freshKey(): string {
  return idempotencyRecordKey({ callerId: "contract", rpc: "test.v1.Contract/Do", token: randomUUID() });
}

function claimInput(key: string, fingerprint: string, owner: string, leaseMs = LONG_MS, ttlMs = DAY_MS) {
  return { key, fingerprint, owner, leaseMs, ttlMs };
}

function renewInput(key: string, fingerprint: string, owner: string, leaseMs: number) {
  return { key, fingerprint, owner, leaseMs, ttlMs: DAY_MS };
}

export function describeIdempotencyStoreContract(adapter: string, setup: StoreHarnessFactory): void {
  describe(`IdempotencyStore contract: ${adapter}`, () => {
    test("a new token is claimed, and the record shows owner, fingerprint and a live lease", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-a", LONG_MS)), { kind: "claimed" });
      const record = await h.store.read(key);
      assert.equal(record?.state, "in_progress");
      assert.equal(record.fingerprint, "fp-1");
      assert.equal(record.owner, "owner-a");
      assert.ok(record.leaseRemainingMs > 0 && record.leaseRemainingMs <= LONG_MS, `lease ${record.leaseRemainingMs}`);
    });

    test("read of an unknown key is undefined; complete and release of it are 'missing'", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      assert.equal(await h.store.read(key), undefined);
      const outcome = responseOutcome("x");
      assert.equal(await h.store.complete({ key, owner: "o", fingerprint: "fp", outcome, ttlMs: DAY_MS }), "missing");
      assert.equal(await h.store.release({ key, owner: "o" }), "missing");
      assert.equal(await h.store.read(key), undefined, "a refused write must not create a record");
    });

    // Powertools #5705 dropped the fingerprint on completion, so a changed retry replayed.
    test("a completed record replays its response and keeps its fingerprint", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      const outcome = responseOutcome("response bytes \u0000\u00ff");
      assert.equal(
        await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome, ttlMs: DAY_MS }),
        "applied",
      );
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), { kind: "replay", outcome });
      const record = await h.store.read(key);
      assert.deepEqual(record, { state: "completed", fingerprint: "fp-1", owner: "owner-a", outcome });
    });

    test("an error outcome round-trips exactly: code, message, detail bytes and JSON, metadata order", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome: errorOutcome, ttlMs: DAY_MS });
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), {
        kind: "replay",
        outcome: errorOutcome,
      });
    });

    test("another fingerprint is a mismatch, in either state", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-2", "owner-b")), {
        kind: "mismatch",
        state: "in_progress",
      });
      await h.store.complete({
        key,
        owner: "owner-a",
        fingerprint: "fp-1",
        outcome: responseOutcome("ok"),
        ttlMs: DAY_MS,
      });
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-2", "owner-b")), {
        kind: "mismatch",
        state: "completed",
      });
      // The mismatching claims changed nothing.
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-c")), {
        kind: "replay",
        outcome: responseOutcome("ok"),
      });
    });

    test("a live lease makes a duplicate in flight, with the lease time left", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", LONG_MS));
      const result = await h.store.claim(claimInput(key, "fp-1", "owner-b", LONG_MS));
      assert.equal(result.kind, "in_flight");
      assert.ok(result.leaseRemainingMs > 0 && result.leaseRemainingMs <= LONG_MS, `left ${result.leaseRemainingMs}`);
      assert.equal((await h.store.read(key))?.owner, "owner-a", "the duplicate must not take the record");
    });

    test("a claim repeated by its own owner (a resent command) is claimed again, not in flight", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", LONG_MS));
      const before = await h.store.read(key);
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-a", LONG_MS)), { kind: "claimed" });
      const after = await h.store.read(key);
      assert.equal(after?.state, "in_progress");
      assert.equal(after.owner, "owner-a");
      assert.ok(
        before?.state === "in_progress" && after.leaseRemainingMs <= before.leaseRemainingMs,
        "the lease is not extended",
      );
      // Anyone else still finds it in flight, and the owner can complete it.
      assert.equal((await h.store.claim(claimInput(key, "fp-1", "owner-b", LONG_MS))).kind, "in_flight");
      const outcome = responseOutcome("once");
      assert.equal(
        await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome, ttlMs: DAY_MS }),
        "applied",
      );
      // Once completed, even its owner's repeated claim replays.
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-a")), { kind: "replay", outcome });
    });

    test("of many simultaneous claims of a new token exactly one wins", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.store.claim(claimInput(key, "fp-1", `owner-${i}`))),
      );
      assert.equal(results.filter((r) => r.kind === "claimed").length, 1);
      assert.equal(results.filter((r) => r.kind === "in_flight").length, 19);
    });

    // Powertools #5714 took such a record over with an unconditional SET.
    test("an expired lease is reclaimed by the next claimer; the old owner is fenced out", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      await h.elapse(WAIT_OUT_SHORT_MS);
      assert.equal((await h.store.read(key))?.state, "in_progress");
      const reclaimed = await h.store.claim(claimInput(key, "fp-1", "owner-b", LONG_MS));
      assert.deepEqual(reclaimed, { kind: "reclaimed", previousOwner: "owner-a" });
      // The stale owner can neither complete nor release.
      const stale = { key, owner: "owner-a", fingerprint: "fp-1", outcome: responseOutcome("stale"), ttlMs: DAY_MS };
      assert.equal(await h.store.complete(stale), "not_owner");
      assert.equal(await h.store.release({ key, owner: "owner-a" }), "not_owner");
      assert.equal((await h.store.read(key))?.owner, "owner-b");
      const fresh = { ...stale, owner: "owner-b", outcome: responseOutcome("fresh") };
      assert.equal(await h.store.complete(fresh), "applied");
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-c")), {
        kind: "replay",
        outcome: responseOutcome("fresh"),
      });
    });

    test("an expired lease shows 0 ms left to a reader", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      await h.elapse(WAIT_OUT_SHORT_MS);
      const record = await h.store.read(key);
      assert.equal(record?.state, "in_progress");
      assert.equal(record.leaseRemainingMs, 0);
    });

    test("of many simultaneous takeovers of an expired lease exactly one wins", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      await h.elapse(WAIT_OUT_SHORT_MS);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.store.claim(claimInput(key, "fp-1", `owner-${i}`, LONG_MS))),
      );
      assert.equal(results.filter((r) => r.kind === "reclaimed").length, 1);
      assert.equal(results.filter((r) => r.kind === "in_flight").length, 19);
    });

    test("an owner that completes after its lease ran out, with nobody taking over, still records", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      await h.elapse(WAIT_OUT_SHORT_MS);
      const outcome = responseOutcome("late");
      assert.equal(
        await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome, ttlMs: DAY_MS }),
        "applied",
      );
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), { kind: "replay", outcome });
    });

    test("a completed record is never overwritten, released or reclaimed", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      const first = responseOutcome("first");
      await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome: first, ttlMs: DAY_MS });
      const again = { key, owner: "owner-a", fingerprint: "fp-1", outcome: responseOutcome("second"), ttlMs: DAY_MS };
      assert.equal(await h.store.complete(again), "already_completed");
      assert.equal(await h.store.complete({ ...again, owner: "owner-z" }), "already_completed");
      assert.equal(await h.store.release({ key, owner: "owner-a" }), "already_completed");
      await h.elapse(WAIT_OUT_SHORT_MS); // past the old lease: completion is not a lease
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), { kind: "replay", outcome: first });
    });

    test("release by the owner frees the token; release by anyone else does not", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      assert.equal(await h.store.release({ key, owner: "owner-b" }), "not_owner");
      assert.equal((await h.store.read(key))?.owner, "owner-a");
      assert.equal(await h.store.release({ key, owner: "owner-a" }), "applied");
      assert.equal(await h.store.read(key), undefined);
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-2", "owner-b")), { kind: "claimed" });
    });

    test("a completed record expires after its TTL; the token is then new", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      const outcome = responseOutcome("ok");
      await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome, ttlMs: SHORT_MS });
      assert.equal((await h.store.read(key))?.state, "completed");
      await h.elapse(WAIT_OUT_SHORT_MS);
      assert.equal(await h.store.read(key), undefined);
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-2", "owner-b")), { kind: "claimed" });
    });

    test("an abandoned in-progress record expires after its TTL", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS, SHORT_MS));
      await h.elapse(WAIT_OUT_SHORT_MS);
      assert.equal(await h.store.read(key), undefined);
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-2", "owner-b")), { kind: "claimed" });
    });

    test("a complete with another fingerprint under the same owner is refused as corrupt", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      await assert.rejects(
        h.store.complete({ key, owner: "owner-a", fingerprint: "fp-2", outcome: responseOutcome("x"), ttlMs: DAY_MS }),
        IdempotencyRecordCorruptError,
      );
      assert.equal((await h.store.read(key))?.state, "in_progress");
    });

    test("renew by the owner extends its lease past the original one: no takeover meanwhile", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      assert.equal(await h.store.renew(renewInput(key, "fp-1", "owner-a", LONG_MS)), "renewed");
      await h.elapse(WAIT_OUT_SHORT_MS);
      const record = await h.store.read(key);
      assert.ok(record?.state === "in_progress" && record.leaseRemainingMs > SHORT_MS, "the lease was extended");
      assert.equal((await h.store.claim(claimInput(key, "fp-1", "owner-b"))).kind, "in_flight");
      const outcome = responseOutcome("kept");
      assert.equal(
        await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome, ttlMs: DAY_MS }),
        "applied",
      );
    });

    test("renew by its owner after the lease ran out, with nobody taking over, keeps the token", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      await h.elapse(WAIT_OUT_SHORT_MS);
      assert.equal(await h.store.renew(renewInput(key, "fp-1", "owner-a", LONG_MS)), "renewed");
      assert.equal((await h.store.claim(claimInput(key, "fp-1", "owner-b"))).kind, "in_flight");
    });

    test("renew by anyone but the owner changes nothing: not_owner, already_completed", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", SHORT_MS));
      assert.equal(await h.store.renew(renewInput(key, "fp-1", "owner-b", LONG_MS)), "not_owner");
      await h.elapse(WAIT_OUT_SHORT_MS);
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), {
        kind: "reclaimed",
        previousOwner: "owner-a",
      });
      assert.equal(
        await h.store.renew(renewInput(key, "fp-1", "owner-a", LONG_MS)),
        "not_owner",
        "the old owner is fenced out",
      );
      const outcome = responseOutcome("b");
      await h.store.complete({ key, owner: "owner-b", fingerprint: "fp-1", outcome, ttlMs: DAY_MS });
      assert.equal(await h.store.renew(renewInput(key, "fp-1", "owner-b", LONG_MS)), "already_completed");
      assert.deepEqual(await h.store.read(key), { state: "completed", fingerprint: "fp-1", owner: "owner-b", outcome });
    });

    test("renew of a record the store lost restores it for its owner, so a duplicate waits", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      assert.equal(await h.store.renew(renewInput(key, "fp-1", "owner-a", LONG_MS)), "restored");
      const record = await h.store.read(key);
      assert.ok(record?.state === "in_progress" && record.owner === "owner-a" && record.fingerprint === "fp-1");
      assert.equal((await h.store.claim(claimInput(key, "fp-1", "owner-b"))).kind, "in_flight");
      assert.equal((await h.store.claim(claimInput(key, "fp-2", "owner-b"))).kind, "mismatch");
    });

    test("renew with another fingerprint under the same owner is refused as corrupt", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      await assert.rejects(h.store.renew(renewInput(key, "fp-2", "owner-a", LONG_MS)), IdempotencyRecordCorruptError);
    });

    test("abandon ends the lease but keeps the record: the next claim is a takeover", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      await h.store.claim(claimInput(key, "fp-1", "owner-a", LONG_MS));
      assert.equal(await h.store.abandon({ key, owner: "owner-b" }), "not_owner");
      const before = await h.store.read(key);
      assert.ok(
        before?.state === "in_progress" && before.leaseRemainingMs > 0,
        "someone else's abandon changes nothing",
      );
      assert.equal(await h.store.abandon({ key, owner: "owner-a" }), "applied");
      const record = await h.store.read(key);
      assert.ok(record?.state === "in_progress" && record.owner === "owner-a", "still in progress, still owner-a's");
      assert.equal(record.leaseRemainingMs, 0);
      // Its fingerprint still guards the token.
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-2", "owner-b")), {
        kind: "mismatch",
        state: "in_progress",
      });
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), {
        kind: "reclaimed",
        previousOwner: "owner-a",
      });
      assert.equal(await h.store.renew(renewInput(key, "fp-1", "owner-a", LONG_MS)), "not_owner");
    });

    test("abandon of a missing or completed record changes nothing", async (t) => {
      const h = await setup(t);
      if (h === undefined) return;
      const key = freshKey();
      assert.equal(await h.store.abandon({ key, owner: "owner-a" }), "missing");
      assert.equal(await h.store.read(key), undefined, "a refused abandon must not create a record");
      await h.store.claim(claimInput(key, "fp-1", "owner-a"));
      const outcome = responseOutcome("done");
      await h.store.complete({ key, owner: "owner-a", fingerprint: "fp-1", outcome, ttlMs: DAY_MS });
      assert.equal(await h.store.abandon({ key, owner: "owner-a" }), "already_completed");
      assert.deepEqual(await h.store.claim(claimInput(key, "fp-1", "owner-b")), { kind: "replay", outcome });
    });

    const corruptions: readonly Corruption[] = [
      "not-a-record",
      "unknown-state",
      "in-progress-without-lease",
      "outcome-not-json",
    ];
    for (const how of corruptions) {
      test(`a corrupt record (${how}) fails every operation with IdempotencyRecordCorruptError`, async (t) => {
        const h = await setup(t);
        if (h === undefined) return;
        const key = freshKey();
        await h.corrupt(key, how, "fp-1");
        const isCorrupt = (error: unknown): boolean =>
          error instanceof IdempotencyRecordCorruptError && error.key === key;
        await assert.rejects(h.store.claim(claimInput(key, "fp-1", "owner-b")), isCorrupt);
        await assert.rejects(h.store.read(key), isCorrupt);
        if (how !== "outcome-not-json") {
          // The outcome is only looked at when replayed; the others are refused before any write.
          const outcome = responseOutcome("x");
          await assert.rejects(
            h.store.complete({ key, owner: "owner-b", fingerprint: "fp-1", outcome, ttlMs: DAY_MS }),
            isCorrupt,
          );
          await assert.rejects(h.store.release({ key, owner: "owner-b" }), isCorrupt);
          await assert.rejects(h.store.abandon({ key, owner: "owner-b" }), isCorrupt);
          await assert.rejects(h.store.renew(renewInput(key, "fp-1", "owner-b", LONG_MS)), isCorrupt);
        }
        // Still corrupt afterwards: nothing took it over or repaired it.
        await assert.rejects(h.store.claim(claimInput(key, "fp-1", "owner-c")), isCorrupt);
      });
    }
  });
}
