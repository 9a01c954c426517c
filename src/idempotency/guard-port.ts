// The seam between the service and idempotency: the service wraps every
// mutating backend call in `guard.run(...)`. Whether a token is remembered,
// replayed, waited on or refused is decided here, never in the service.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { CallOptions } from "../backend/backend.js";

/**
 * The response header carrying the client_token of every RAM mutation, given
 * or generated, on success and on error: a caller whose call failed learns
 * from it the token a retry must resend.
 */
export const CLIENT_TOKEN_HEADER = "client-token";

/** The response header that marks an answer as a replay. */
export const REPLAYED_HEADER = "idempotent-replayed";

export interface IdempotentCall<I extends DescMessage, O extends DescMessage> {
  /** Full RPC name, e.g. "permission.v1.PermissionService/DeleteRamPermission". */
  readonly rpc: string;
  /** The caller's token (client_token or idempotency_key), already validated. */
  readonly token: string;
  readonly requestSchema: I;
  /** The request as received; `tokenField` is left out of its fingerprint. */
  readonly request: MessageShape<I>;
  /** Local (camelCase) name of the token field, e.g. "clientToken". */
  readonly tokenField: string;
  readonly responseSchema: O;
  /** For the caller's identity, deadline, signal and the replay header. */
  readonly context: HandlerContext;
  /** Told how this call was decided (once, as the guard returns), for the call's own record. */
  readonly onOutcome?: (kind: IdempotencyOutcomeKind) => void;
}

export interface IdempotencyGuard {
  /**
   * Runs `execute` at most once per (caller, rpc, token) and fingerprint.
   * `execute` resolves with the response or rejects with a ConnectError that
   * is already mapped for the wire.
   *
   * `execute` must pass `options` to the backend instead of the caller's own:
   * their signal also ends the call when its execution budget runs out or
   * its lease can no longer be renewed (aborted with a TimeoutError), their
   * deadline is min(caller's deadline, the budget's end), and
   * `afterTakeover` says that an earlier attempt with this token may have
   * reached AWS. A call that outlived its lease could run alongside a
   * duplicate that took over.
   */
  run<I extends DescMessage, O extends DescMessage>(
    call: IdempotentCall<I, O>,
    execute: (options: CallOptions) => Promise<MessageShape<O>>,
  ): Promise<MessageShape<O>>;
}

/**
 * How one guarded call was decided, reported once per call that reached the
 * store: "claimed" / "reclaimed" (it executed; reclaimed = took over an
 * earlier attempt's token), "replayed" (a stored outcome, at once), "waited"
 * (a stored outcome, after waiting for the owner), "mismatch", "in_flight"
 * (gave up waiting: ABORTED, or the caller's deadline or cancellation while
 * waiting), "store_error" (failed closed: nothing executed).
 */
export type IdempotencyOutcomeKind =
  "claimed" | "reclaimed" | "replayed" | "mismatch" | "waited" | "in_flight" | "store_error";

/** Hooks for metrics. Both are called synchronously and must not throw. */
export interface IdempotencyObserver {
  onOutcome?(kind: IdempotencyOutcomeKind): void;
  /** Every store call the guard makes: claim, renew, complete, release, abandon, read. */
  onStoreCommand?(operation: string, ms: number, failed: boolean): void;
}
