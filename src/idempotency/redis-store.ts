// The Redis IdempotencyStore on ioredis. Every operation is one Lua script on
// the record's single key (see redis-scripts.ts), so it works the same on a
// standalone server, behind Sentinel and on a Cluster, where the key's hash
// tag picks the slot. Scripts are sent by SHA and loaded on NOSCRIPT, which
// also covers a failover to a replica that never saw them.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { decodeOutcome, encodeOutcome } from "./outcome-codec.js";
import { CLAIM_SCRIPT, COMPLETE_SCRIPT, READ_SCRIPT, RELEASE_SCRIPT } from "./redis-scripts.js";
import { IdempotencyRecordCorruptError } from "./store.js";
import type {
  ClaimInput,
  ClaimResult,
  CompleteInput,
  FencedWriteResult,
  IdempotencyRecord,
  IdempotencyStore,
  ReleaseInput,
} from "./store.js";

/** What the store needs of a client; both `Redis` and `Cluster` fit. */
export type RedisScriptClient = Pick<Redis, "eval" | "evalsha">;

/** Nothing to configure yet: TTL and lease come with each call. */
export type RedisIdempotencyStoreOptions = Record<string, never>;

interface LoadedScript {
  readonly source: string;
  readonly sha: string;
}

export function createRedisIdempotencyStore(
  redis: RedisScriptClient,
  _options: RedisIdempotencyStoreOptions = {},
): IdempotencyStore {
  const claimScript = loadScript(CLAIM_SCRIPT);
  const completeScript = loadScript(COMPLETE_SCRIPT);
  const releaseScript = loadScript(RELEASE_SCRIPT);
  const readScript = loadScript(READ_SCRIPT);

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

  const fencedWrite = (key: string, reply: string[]): FencedWriteResult => {
    const [result] = reply;
    if (result === "applied" || result === "missing" || result === "not_owner" || result === "already_completed") {
      return result;
    }
    throw new IdempotencyRecordCorruptError(key, `unexpected script reply ${String(result)}`);
  };

  return {
    async claim(input: ClaimInput): Promise<ClaimResult> {
      const keyTtlMs = Math.max(input.ttlMs, input.leaseMs);
      const reply = await run(claimScript, input.key, [
        input.fingerprint,
        input.owner,
        Math.ceil(input.leaseMs),
        Math.ceil(keyTtlMs),
      ]);
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

    async complete(input: CompleteInput): Promise<FencedWriteResult> {
      const reply = await run(completeScript, input.key, [
        input.owner,
        input.fingerprint,
        encodeOutcome(input.outcome),
        Math.ceil(input.ttlMs),
      ]);
      return fencedWrite(input.key, reply);
    },

    async release(input: ReleaseInput): Promise<FencedWriteResult> {
      return fencedWrite(input.key, await run(releaseScript, input.key, [input.owner]));
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

function loadScript(source: string): LoadedScript {
  return { source, sha: createHash("sha1").update(source, "utf8").digest("hex") };
}
