// The Redis IdempotencyStore on ioredis. Every operation is one Lua script on
// the record's single key (see redis-scripts.ts), so it works the same on a
// standalone server, behind Sentinel and on a Cluster, where the key's hash
// tag picks the slot. Scripts are sent by SHA: redis-script-preload.ts loads
// them on every (re)connect, and a node that still lacks one (a failover to
// a replica, SCRIPT FLUSH) answers NOSCRIPT at once, so the EVAL that
// follows fits in the same store timeout as the command itself.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { decodeOutcome, encodeOutcome } from "./outcome-codec.js";
import {
  ABANDON_SCRIPT,
  CLAIM_SCRIPT,
  COMPLETE_SCRIPT,
  READ_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
} from "./redis-scripts.js";
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

/** What the store needs of a client; both `Redis` and `Cluster` fit. */
export type RedisScriptClient = Pick<Redis, "eval" | "evalsha">;

export interface LoadedScript {
  readonly source: string;
  readonly sha: string;
}

export function scriptOf(source: string): LoadedScript {
  return { source, sha: createHash("sha1").update(source, "utf8").digest("hex") };
}

/** Lease and key TTL in whole ms: the record lives at least as long as its lease. */
function leaseArgs(input: { readonly leaseMs: number; readonly ttlMs: number }): [number, number] {
  return [Math.ceil(input.leaseMs), Math.ceil(Math.max(input.ttlMs, input.leaseMs))];
}

const FENCED_WRITE_RESULTS: ReadonlySet<string> = new Set(["applied", "missing", "not_owner", "already_completed"]);
const RENEW_RESULTS: ReadonlySet<string> = new Set(["renewed", "restored", "not_owner", "already_completed"]);

export function createRedisIdempotencyStore(redis: RedisScriptClient): IdempotencyStore {
  const claimScript = scriptOf(CLAIM_SCRIPT);
  const renewScript = scriptOf(RENEW_SCRIPT);
  const completeScript = scriptOf(COMPLETE_SCRIPT);
  const releaseScript = scriptOf(RELEASE_SCRIPT);
  const abandonScript = scriptOf(ABANDON_SCRIPT);
  const readScript = scriptOf(READ_SCRIPT);

  const run = async (script: LoadedScript, key: string, args: readonly (string | number)[]): Promise<string[]> => {
    let reply: unknown;
    try {
      reply = await redis.evalsha(script.sha, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      reply = await redis.eval(script.source, 1, key, ...args);
    }
    if (!Array.isArray(reply) || reply.length === 0) {
      throw new IdempotencyRecordCorruptError(key, "unexpected script reply");
    }
    const fields = reply.map((item: unknown) => (typeof item === "number" ? String(item) : item));
    if (!fields.every((item): item is string => typeof item === "string")) {
      throw new IdempotencyRecordCorruptError(key, "unexpected script reply");
    }
    if (fields[0] === "corrupt") throw new IdempotencyRecordCorruptError(key, fields[1] ?? "unknown reason");
    return fields;
  };

  /** The first reply field, when it is one of `allowed`. */
  const resultOf = <T extends string>(key: string, reply: string[], allowed: ReadonlySet<string>): T => {
    const [result] = reply;
    if (result !== undefined && allowed.has(result)) return result as T;
    throw new IdempotencyRecordCorruptError(key, `unexpected script reply ${String(result)}`);
  };

  return {
    async claim(input: ClaimInput): Promise<ClaimResult> {
      const reply = await run(claimScript, input.key, [input.fingerprint, input.owner, ...leaseArgs(input)]);
      const [result, value] = reply;
      switch (result) {
        case "claimed":
          return { kind: "claimed" };
        case "reclaimed":
          return { kind: "reclaimed", previousOwner: value ?? "" };
        case "replay":
          return { kind: "replay", outcome: decodeOutcome(input.key, value ?? "") };
        case "mismatch":
          return { kind: "mismatch", state: value === "completed" ? "completed" : "in_progress" };
        case "in_flight":
          return { kind: "in_flight", leaseRemainingMs: Number(value) };
        default:
          throw new IdempotencyRecordCorruptError(input.key, `unexpected script reply ${String(result)}`);
      }
    },

    async renew(input: RenewInput): Promise<RenewResult> {
      const reply = await run(renewScript, input.key, [input.owner, input.fingerprint, ...leaseArgs(input)]);
      return resultOf<RenewResult>(input.key, reply, RENEW_RESULTS);
    },

    async complete(input: CompleteInput): Promise<FencedWriteResult> {
      const reply = await run(completeScript, input.key, [
        input.owner,
        input.fingerprint,
        encodeOutcome(input.outcome),
        Math.ceil(input.ttlMs),
      ]);
      return resultOf<FencedWriteResult>(input.key, reply, FENCED_WRITE_RESULTS);
    },

    async release(input: ReleaseInput): Promise<FencedWriteResult> {
      return resultOf(input.key, await run(releaseScript, input.key, [input.owner]), FENCED_WRITE_RESULTS);
    },

    async abandon(input: AbandonInput): Promise<FencedWriteResult> {
      return resultOf(input.key, await run(abandonScript, input.key, [input.owner]), FENCED_WRITE_RESULTS);
    },

    async read(key: string): Promise<IdempotencyRecord | undefined> {
      const [state, fingerprint, owner, value] = await run(readScript, key, []);
      if (state === "none") return undefined;
      if (fingerprint === undefined || owner === undefined || value === undefined) {
        throw new IdempotencyRecordCorruptError(key, "unexpected script reply");
      }
      if (state === "completed") return { state, fingerprint, owner, outcome: decodeOutcome(key, value) };
      if (state === "in_progress") return { state, fingerprint, owner, leaseRemainingMs: Number(value) };
      throw new IdempotencyRecordCorruptError(key, `unexpected script reply ${String(state)}`);
    },
  };
}
