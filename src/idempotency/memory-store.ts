// The embedded IdempotencyStore: one process, no Redis. Each operation runs
// synchronously to completion, which makes it as atomic as the Redis Lua
// scripts. Records are kept in their encoded form, as Redis keeps them, so a
// caller cannot mutate a stored outcome and the same corruption checks apply.
// Time comes from the injected clock; expired entries are swept on use, and
// maxEntries caps what one TTL of traffic could otherwise grow to.
import type { Clock } from "../clock.js";
import { decodeOutcome, encodeOutcome } from "./outcome-codec.js";
import { IdempotencyRecordCorruptError } from "./store.js";
import type {
  AbandonInput,
  ClaimInput,
  ClaimResult,
  CompleteInput,
  FencedWriteResult,
  IdempotencyRecord,
  IdempotencyStore,
  ReleaseInput,
  RenewInput,
  RenewResult,
} from "./store.js";

export interface MemoryIdempotencyEntry {
  /** JSON of the record's fields; see RecordFields. */
  readonly encoded: string;
  /** Epoch ms (by the store's clock) after which the entry is gone. */
  readonly expiresAt: number;
}

export interface MemoryIdempotencyStoreOptions {
  readonly clock: Clock;
  /** How often, at most, expired entries are swept. Default 60 s. */
  readonly sweepIntervalMs?: number | undefined;
  /** The backing map; pass one to look at or damage entries in tests. */
  readonly entries?: Map<string, MemoryIdempotencyEntry> | undefined;
  /**
   * Most records held. A claim that finds the store full evicts expired
   * records, then the oldest completed one; with only calls in progress
   * left it fails (the guard fails closed). Default 100 000.
   */
  readonly maxEntries?: number | undefined;
}

/** No room for a new record: every record held belongs to a call in progress. */
export class IdempotencyStoreFullError extends Error {
  override readonly name = "IdempotencyStoreFullError" as const;
  constructor(readonly maxEntries: number) {
    super(`the memory idempotency store holds ${maxEntries} calls in progress and has no room for another`);
  }
}

export interface MemoryIdempotencyStore extends IdempotencyStore {
  /** Entries held right now, expired ones not yet swept included. */
  size(): number;
  /** Drops every expired entry now. */
  sweep(): void;
}

const FULL_SWEEP_INTERVAL_MS = 1_000;

type RecordFields =
  | { readonly fingerprint: string; readonly owner: string; readonly state: "in_progress"; readonly leaseUntil: number }
  /** outcome: encodeOutcome() text. */
  | { readonly fingerprint: string; readonly owner: string; readonly state: "completed"; readonly outcome: string };

export function createMemoryIdempotencyStore(options: MemoryIdempotencyStoreOptions): MemoryIdempotencyStore {
  const { clock } = options;
  const entries = options.entries ?? new Map<string, MemoryIdempotencyEntry>();
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 100_000;
  let lastSweepAt = clock.now();
  let nextSweepAt = lastSweepAt + sweepIntervalMs;

  const sweep = (): void => {
    const now = clock.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
    lastSweepAt = now;
    nextSweepAt = now + sweepIntervalMs;
  };

  /** The live record under `key`, after an opportunistic sweep. */
  const load = (key: string, now: number): RecordFields | undefined => {
    if (now >= nextSweepAt) sweep();
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return parseFields(key, entry.encoded);
  };

  const save = (key: string, fields: RecordFields, expiresAt: number): void => {
    // Re-inserted, so the map stays in order of last write: the oldest
    // completed records (and, with one TTL, the first to expire) come first.
    entries.delete(key);
    entries.set(key, { encoded: JSON.stringify(fields), expiresAt });
  };

  const isCompleted = (key: string, entry: MemoryIdempotencyEntry): boolean => {
    try {
      return parseFields(key, entry.encoded).state === "completed";
    } catch {
      return false; // A corrupt record stays: it fails its own token closed.
    }
  };

  /** Frees one place for a new record, or throws when only calls in progress are held. */
  const makeRoom = (now: number): void => {
    if (entries.size < maxEntries) return;
    // A sweep walks every entry: while the store stays full, once a second
    // is enough; in between, the oldest completed record makes the room.
    if (now - lastSweepAt >= FULL_SWEEP_INTERVAL_MS) {
      sweep();
      if (entries.size < maxEntries) return;
    }
    for (const [key, entry] of entries) {
      // Forgetting an outcome early only lets a late retry run again;
      // forgetting a call in progress could run it twice at once.
      if (entry.expiresAt <= now || isCompleted(key, entry)) {
        entries.delete(key);
        return;
      }
    }
    throw new IdempotencyStoreFullError(maxEntries);
  };

  return {
    size: () => entries.size,
    sweep,

    async claim(input: ClaimInput): Promise<ClaimResult> {
      const now = clock.now();
      const record = load(input.key, now);
      const fresh = { fingerprint: input.fingerprint, owner: input.owner, state: "in_progress" as const };
      const keyExpiresAt = now + Math.max(input.ttlMs, input.leaseMs);
      if (record === undefined) {
        makeRoom(now);
        save(input.key, { ...fresh, leaseUntil: now + input.leaseMs }, keyExpiresAt);
        return { kind: "claimed" };
      }
      if (record.fingerprint !== input.fingerprint) return { kind: "mismatch", state: record.state };
      if (record.state === "completed") {
        return { kind: "replay", outcome: decodeOutcome(input.key, record.outcome) };
      }
      // The same claim again (a client that resent it): it is already ours,
      // so the caller must not wait on itself.
      if (record.owner === input.owner) return { kind: "claimed" };
      const { leaseUntil } = record;
      if (leaseUntil > now) return { kind: "in_flight", leaseRemainingMs: leaseUntil - now };
      // The lease ran out: the takeover is decided and written in this one
      // synchronous step, on the record just read, never blindly over
      // whatever is there by then.
      save(input.key, { ...fresh, leaseUntil: now + input.leaseMs }, keyExpiresAt);
      return { kind: "reclaimed", previousOwner: record.owner };
    },

    async complete(input: CompleteInput): Promise<FencedWriteResult> {
      const now = clock.now();
      const record = load(input.key, now);
      if (record === undefined) return "missing";
      const refused = notOwnedBy(input.key, record, input.owner, input.fingerprint);
      if (refused !== undefined) return refused;
      // The fingerprint stays on the completed record: without it a later
      // retry with other parameters would replay instead of failing with a
      // mismatch.
      save(
        input.key,
        {
          fingerprint: record.fingerprint,
          owner: record.owner,
          state: "completed",
          outcome: encodeOutcome(input.outcome),
        },
        now + input.ttlMs,
      );
      return "applied";
    },

    async renew(input: RenewInput): Promise<RenewResult> {
      const now = clock.now();
      const record = load(input.key, now);
      const keyExpiresAt = now + Math.max(input.ttlMs, input.leaseMs);
      const held = { fingerprint: input.fingerprint, owner: input.owner, state: "in_progress" as const };
      if (record === undefined) {
        makeRoom(now);
        save(input.key, { ...held, leaseUntil: now + input.leaseMs }, keyExpiresAt);
        return "restored";
      }
      const refused = notOwnedBy(input.key, record, input.owner, input.fingerprint);
      if (refused !== undefined) return refused;
      save(input.key, { ...held, leaseUntil: now + input.leaseMs }, keyExpiresAt);
      return "renewed";
    },

    async release(input: ReleaseInput): Promise<FencedWriteResult> {
      const record = load(input.key, clock.now());
      if (record === undefined) return "missing";
      const refused = notOwnedBy(input.key, record, input.owner);
      if (refused !== undefined) return refused;
      entries.delete(input.key);
      return "applied";
    },

    async abandon(input: AbandonInput): Promise<FencedWriteResult> {
      const now = clock.now();
      const record = load(input.key, now);
      if (record === undefined) return "missing";
      const refused = notOwnedBy(input.key, record, input.owner);
      if (refused !== undefined) return refused;
      // Set in place: the entry keeps its position among the oldest writes.
      const entry = entries.get(input.key);
      if (entry !== undefined)
        entries.set(input.key, { ...entry, encoded: JSON.stringify({ ...record, leaseUntil: now }) });
      return "applied";
    },

    async read(key: string): Promise<IdempotencyRecord | undefined> {
      const now = clock.now();
      const record = load(key, now);
      if (record === undefined) return undefined;
      const { fingerprint, owner } = record;
      if (record.state === "completed") {
        return { state: "completed", fingerprint, owner, outcome: decodeOutcome(key, record.outcome) };
      }
      return { state: "in_progress", fingerprint, owner, leaseRemainingMs: Math.max(0, record.leaseUntil - now) };
    },
  };
}

/**
 * The fence of every write by an owner: why `owner` may not write `record`,
 * or undefined when it may. A completed record is never written again; the
 * same owner with another fingerprint is damage, never guessed around.
 */
function notOwnedBy(
  key: string,
  record: RecordFields,
  owner: string,
  fingerprint?: string,
): "already_completed" | "not_owner" | undefined {
  if (record.state === "completed") return "already_completed";
  if (record.owner !== owner) return "not_owner";
  if (fingerprint !== undefined && record.fingerprint !== fingerprint) {
    throw new IdempotencyRecordCorruptError(key, "fingerprint changed under the same owner");
  }
  return undefined;
}

function parseFields(key: string, encoded: string): RecordFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(encoded);
  } catch (cause) {
    throw new IdempotencyRecordCorruptError(key, "record is not JSON", { cause });
  }
  if (typeof parsed !== "object" || parsed === null)
    throw new IdempotencyRecordCorruptError(key, "record is not an object");
  const fields = parsed as Record<string, unknown>;
  const { fingerprint, owner, state, leaseUntil, outcome } = fields;
  if (typeof fingerprint !== "string" || fingerprint === "" || typeof owner !== "string" || owner === "") {
    throw new IdempotencyRecordCorruptError(key, "record has no fingerprint or owner");
  }
  if (state === "in_progress") {
    // Without a lease it is corrupt, not an orphan: taking it over could
    // run a call that is still running a second time.
    if (typeof leaseUntil !== "number" || !Number.isFinite(leaseUntil)) {
      throw new IdempotencyRecordCorruptError(key, "in-progress record has no lease expiry");
    }
    return { fingerprint, owner, state, leaseUntil };
  }
  if (state === "completed") {
    if (typeof outcome !== "string") throw new IdempotencyRecordCorruptError(key, "completed record has no outcome");
    return { fingerprint, owner, state, outcome };
  }
  throw new IdempotencyRecordCorruptError(key, "record has an unknown state");
}
