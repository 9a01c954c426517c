import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../../src/clock.js";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import type { MemoryIdempotencyEntry } from "../../src/idempotency/memory-store.js";
import { describeIdempotencyStoreContract } from "./store-contract.js";
import type { Corruption } from "./store-contract.js";

function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

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
  const clock = manualClock();
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
  const clock = manualClock();
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
