// The bounded memory of RAM client tokens.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createClientTokenCache } from "../../../src/backend/fake/client-tokens.js";
import { manualClock } from "../../support/manual-clock.js";

describe("client token cache", () => {
  it("returns what was remembered until the time is up", () => {
    const clock = manualClock();
    const cache = createClientTokenCache<string>({ clock, ttlMs: 1000, maxEntries: 10 });
    cache.remember("k", { fingerprint: "f", result: "r" });
    clock.advance(999);
    assert.deepEqual(cache.get("k"), { fingerprint: "f", result: "r" });
    clock.advance(1);
    assert.equal(cache.get("k"), undefined);
    assert.equal(cache.size, 0);
  });

  it("holds at most maxEntries, dropping the oldest", () => {
    const cache = createClientTokenCache<number>({ clock: manualClock(), ttlMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 5; i++) cache.remember(`k${i}`, { fingerprint: "f", result: i });
    assert.equal(cache.size, 3);
    assert.equal(cache.get("k0"), undefined);
    assert.equal(cache.get("k1"), undefined);
    assert.equal(cache.get("k4")?.result, 4);
  });

  it("drops expired entries when new ones arrive", () => {
    const clock = manualClock();
    const cache = createClientTokenCache<number>({ clock, ttlMs: 100, maxEntries: 100 });
    for (let i = 0; i < 10; i++) cache.remember(`old${i}`, { fingerprint: "f", result: i });
    clock.advance(100);
    cache.remember("new", { fingerprint: "f", result: 0 });
    assert.equal(cache.size, 1);
  });
});
