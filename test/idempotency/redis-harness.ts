// The contract harness for the Redis store, shared by the standalone and
// Cluster test files: real time passes (Redis server time is the store's
// only clock), and records are damaged through a raw client, the way an
// outside writer could.
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Redis } from "ioredis";
import { createRedisIdempotencyStore } from "../../src/idempotency/redis-store.js";
import type { Corruption, StoreHarness } from "./store-contract.js";

export function redisStoreHarness(client: Redis | Cluster, raw: Redis | Cluster): StoreHarness {
  return {
    store: createRedisIdempotencyStore(client),
    elapse: (ms) => sleep(ms),
    corrupt: (key, how, fingerprint) => writeCorruptRecord(raw, key, how, fingerprint),
  };
}

export async function writeCorruptRecord(
  raw: Redis | Cluster,
  key: string,
  how: Corruption,
  fingerprint: string,
): Promise<void> {
  await raw.del(key);
  switch (how) {
    case "not-a-record":
      await raw.set(key, "garbage");
      break;
    case "unknown-state":
      await raw.hset(key, { fp: fingerprint, owner: "o", state: "weird" });
      break;
    case "in-progress-without-lease":
      await raw.hset(key, { fp: fingerprint, owner: "o", state: "in_progress" });
      break;
    case "outcome-not-json":
      await raw.hset(key, { fp: fingerprint, owner: "o", state: "completed", outcome: "{not json" });
      break;
  }
  await raw.pexpire(key, 60_000);
}
