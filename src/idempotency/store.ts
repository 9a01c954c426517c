// The IdempotencyStore port: one record per (caller, rpc, token), claimed by
// exactly one owner at a time. Adapters (memory-store.ts, redis-store.ts)
// implement it with the same semantics; test/idempotency/store-contract.ts
// holds them to it.
import type { JsonValue } from "@bufbuild/protobuf";

/** What a completed record replays: the response bytes, or the error. */
export type IdempotencyOutcome =
  | { readonly kind: "response"; readonly response: Uint8Array }
  | { readonly kind: "error"; readonly error: StoredError };

export interface StoredError {
  /** The Connect/gRPC code as a number. */
  readonly code: number;
  /** ConnectError.rawMessage (without the "[code]" prefix). */
  readonly message: string;
  readonly details: readonly StoredErrorDetail[];
  /** ConnectError.metadata, as name/value pairs in their original order. */
  readonly metadata: readonly (readonly [string, string])[];
}

/** One error detail as it travels on the wire: a type name and the raw message bytes. */
export interface StoredErrorDetail {
  readonly type: string;
  readonly value: Uint8Array;
  /** The JSON form Connect sends alongside, when there was one. */
  readonly debug?: JsonValue | undefined;
}

export type IdempotencyRecord =
  | {
      readonly state: "in_progress";
      readonly fingerprint: string;
      readonly owner: string;
      /** 0 once the lease has run out: the record may then be reclaimed. */
      readonly leaseRemainingMs: number;
    }
  | {
      readonly state: "completed";
      readonly fingerprint: string;
      readonly owner: string;
      readonly outcome: IdempotencyOutcome;
    };

export interface ClaimInput {
  /** From idempotencyRecordKey(); the whole record lives under this one key. */
  readonly key: string;
  readonly fingerprint: string;
  /** Unique per attempt: complete and release are fenced by it. */
  readonly owner: string;
  readonly leaseMs: number;
  /** How long the record lives at most, in progress or completed. */
  readonly ttlMs: number;
}

export type ClaimResult =
  /**
   * No record: the caller owns a new one and must execute. Also the answer
   * when the record is in progress and already the caller's (a resent claim).
   */
  | { readonly kind: "claimed" }
  /** An in-progress record whose lease ran out: the caller took it over and must execute. */
  | { readonly kind: "reclaimed"; readonly previousOwner: string }
  /** A completed record with the same fingerprint. */
  | { readonly kind: "replay"; readonly outcome: IdempotencyOutcome }
  /** A record of either state with a different fingerprint. */
  | { readonly kind: "mismatch"; readonly state: "in_progress" | "completed" }
  /** Someone else holds a live lease. */
  | { readonly kind: "in_flight"; readonly leaseRemainingMs: number };

export interface CompleteInput {
  readonly key: string;
  readonly owner: string;
  /** Must equal the claimed fingerprint; the completed record keeps it. */
  readonly fingerprint: string;
  readonly outcome: IdempotencyOutcome;
  readonly ttlMs: number;
}

export interface ReleaseInput {
  readonly key: string;
  readonly owner: string;
}

/** Gives the record up without forgetting it: see IdempotencyStore.abandon. */
export type AbandonInput = ReleaseInput;

export interface RenewInput {
  readonly key: string;
  readonly owner: string;
  /** The claimed fingerprint: a record the store lost is restored with it. */
  readonly fingerprint: string;
  /** The new lease, counted from now (the store's now). */
  readonly leaseMs: number;
  /** How long the record lives at most, as in ClaimInput. */
  readonly ttlMs: number;
}

/**
 * "renewed": the lease now ends leaseMs from now. "restored": the store had
 * no record (a Redis restarted without persistence) and now holds this
 * owner's again, so no duplicate starts while the call runs. Anything else
 * means the caller is no longer the owner and must stop.
 */
export type RenewResult = "renewed" | "restored" | "not_owner" | "already_completed";

/**
 * The result of a fenced write. Anything but "applied" means nothing was
 * written: the record is gone, belongs to someone else, or is already
 * completed (a completed record is never overwritten).
 */
export type FencedWriteResult = "applied" | "missing" | "not_owner" | "already_completed";

export interface IdempotencyStore {
  claim(input: ClaimInput): Promise<ClaimResult>;
  /** The owner's heartbeat: extends its lease while its call runs. */
  renew(input: RenewInput): Promise<RenewResult>;
  complete(input: CompleteInput): Promise<FencedWriteResult>;
  /** Forgets the claim: the next claim of the token is a new one ("claimed"). */
  release(input: ReleaseInput): Promise<FencedWriteResult>;
  /**
   * Ends the owner's lease now but keeps the record in progress: used when
   * the call may have taken effect without the owner knowing its outcome.
   * The next claim of the token is then a takeover ("reclaimed"), which tells
   * the backend to reconcile with the actual state before it answers.
   */
  abandon(input: AbandonInput): Promise<FencedWriteResult>;
  /** For an in-flight waiter to poll; undefined when there is no record. */
  read(key: string): Promise<IdempotencyRecord | undefined>;
}

/**
 * A record that cannot be understood. Never guessed around: the guard turns
 * it into UNAVAILABLE (fail closed) instead of executing again.
 */
export class IdempotencyRecordCorruptError extends Error {
  override readonly name = "IdempotencyRecordCorruptError" as const;
  constructor(
    readonly key: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`idempotency record ${key} is corrupt: ${reason}`, options);
  }
}

export function isIdempotencyRecordCorruptError(value: unknown): value is IdempotencyRecordCorruptError {
  return value instanceof IdempotencyRecordCorruptError;
}
