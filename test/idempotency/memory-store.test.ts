import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMemoryIdempotencyStore, IdempotencyStoreFullError } from "../../src/idempotency/memory-store.js";
import type { MemoryIdempotencyEntry } from "../../src/idempotency/memory-store.js";
import type { IdempotencyStore } from "../../src/idempotency/store.js";
import { describeIdempotencyStoreContract } from "./store-contract.js";
import type { Corruption } from "./store-contract.js";
import { manualClock } from "../support/manual-clock.js";

function damaged(how: Corruption, fingerprint: string): string {
  switch (how) {
    case "not-a-record":
      return "garbage";
    case "unknown-state":
      return JSON.stringify({ fingerprint, owner: "o", state: "weird" });
    case "in-progress-without-lease":
      return JSON.stringify({ fingerprint, owner: "o", state: "in_progress" });
    case "outcome-not-json":
      return JSON.stringify({ fingerprint, owner: "o", state: "completed", outcome: "{not json" });
  }
}

describeIdempotencyStoreContract("memory", async () => {
  const clock = manualClock(1_700_000_000_000);
  const entries = new Map<string, MemoryIdempotencyEntry>();
  return {
    store: createMemoryIdempotencyStore({ clock, entries }),
    elapse: async (ms) => clock.advance(ms),
    corrupt: async (key, how, fingerprint) => {
      entries.set(key, { encoded: damaged(how, fingerprint), expiresAt: clock.now() + 60_000 });
    },
  };
});

test("memory store: expired entries are swept, so memory stays bounded", async () => {
  const clock = manualClock(1_700_000_000_000);
  const store = createMemoryIdempotencyStore({ clock, sweepIntervalMs: 1_000 });
  const outcome = { kind: "response" as const, response: new Uint8Array([1]) };
  for (let i = 0; i < 100; i += 1) {
    const key = `k${i}`;
    await store.claim({ key, fingerprint: "fp", owner: "o", leaseMs: 500, ttlMs: 5_000 });
    if (i % 2 === 0) await store.complete({ key, owner: "o", fingerprint: "fp", outcome, ttlMs: 2_000 });
  }
  assert.equal(store.size(), 100);
  clock.advance(2_500);
  // Any operation past the sweep interval sweeps: the 50 completed ones are gone.
  await store.read("other");
  assert.equal(store.size(), 50);
  clock.advance(3_000);
  store.sweep();
  assert.equal(store.size(), 0);
});

describe("memory store: maxEntries", () => {
  const outcome = { kind: "response" as const, response: new Uint8Array([1]) };
  const DAY_MS = 86_400_000;
  const claim = (store: IdempotencyStore, key: string, ttlMs = DAY_MS) =>
    store.claim({ key, fingerprint: "fp", owner: `owner-${key}`, leaseMs: 60_000, ttlMs });
  const complete = (store: IdempotencyStore, key: string, ttlMs = DAY_MS) =>
    store.complete({ key, owner: `owner-${key}`, fingerprint: "fp", outcome, ttlMs });

  test("when full, a new claim first drops expired records", async () => {
    const clock = manualClock(1_700_000_000_000);
    const store = createMemoryIdempotencyStore({ clock, maxEntries: 3 });
    await claim(store, "short");
    await complete(store, "short", 1_000);
    await claim(store, "kept");
    await complete(store, "kept");
    await claim(store, "running");
    clock.advance(1_500);
    assert.deepEqual(await claim(store, "new"), { kind: "claimed" });
    assert.equal(store.size(), 3);
    assert.equal(await store.read("short"), undefined);
    assert.equal(
      (await store.read("kept"))?.state,
      "completed",
      "a live outcome is not evicted while an expired one is there",
    );
  });

  test("when full with nothing expired, the record completed longest ago makes room", async () => {
    const clock = manualClock(1_700_000_000_000);
    const store = createMemoryIdempotencyStore({ clock, maxEntries: 3 });
    await claim(store, "a");
    await claim(store, "b");
    await complete(store, "b");
    await complete(store, "a"); // claimed first, completed last
    await claim(store, "running");
    assert.deepEqual(await claim(store, "new"), { kind: "claimed" });
    assert.equal(await store.read("b"), undefined, "b was completed first");
    assert.equal((await store.read("a"))?.state, "completed");
    assert.equal((await store.read("running"))?.state, "in_progress");
  });

  test("when full of calls in progress, a new claim fails and nothing is evicted", async () => {
    const clock = manualClock(1_700_000_000_000);
    const store = createMemoryIdempotencyStore({ clock, maxEntries: 2 });
    await claim(store, "a");
    await claim(store, "b");
    await assert.rejects(claim(store, "c"), IdempotencyStoreFullError);
    assert.equal((await store.read("a"))?.state, "in_progress");
    assert.equal((await store.read("b"))?.state, "in_progress");
    // Claims of records already held still work, and a completion frees a place.
    assert.equal(
      (await store.claim({ key: "a", fingerprint: "fp", owner: "other", leaseMs: 1_000, ttlMs: DAY_MS })).kind,
      "in_flight",
    );
    await complete(store, "a");
    assert.deepEqual(await claim(store, "c"), { kind: "claimed" });
    assert.equal(await store.read("a"), undefined);
  });
});
