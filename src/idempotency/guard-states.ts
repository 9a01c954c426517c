// The states of one call through the idempotency guard (guard-machine.ts
// runs them), and the one place that decides how the call was decided.
//
//                 +------------------------------------------------------+
//                 v                                                      |
//   start --> claiming --claimed/reclaimed--> executing --ok--> completing --> answered
//              |  |  |                          |  (error)
//              |  |  |                          +--definitive--> completing --> failed
//              |  |  |                          +--uncertain / lease lost--> abandoning --> failed
//              |  |  |                          +--otherwise--> releasing --> failed
//              |  |  +--replay--> replaying --> answered | failed (a stored error)
//              |  |                   +--undecodable--> refused (store_error)
//              |  +--mismatch--> matching_version --older version, same request--> claiming
//              |                        +--otherwise--> refused (mismatch)
//              +--owner in this process--> waiting_local --done--> claiming
//              +--in_flight--> waiting --completed--> replaying
//              |                  +--released / lease ran out--> claiming
//              |                  +--budget spent / caller left--> refused (in_flight | store_error)
//              +--store failed, first claim--> refused (store_error)
//              +--store failed, after a wait--> backing_off --> claiming
//
// Only the run loop moves from one state to the next, and only
// outcomeOf() names the outcome: the access log's `idempotency` word and
// the metrics observer read what it decided.
import type { MessageShape, DescMessage } from "@bufbuild/protobuf";
import type { IdempotencyOutcomeKind } from "./guard-port.js";
import type { Ownership } from "./ownership.js";
import type { IdempotencyOutcome } from "./store.js";

/** The claim an owner executes under. */
export interface HeldClaim {
  readonly owner: string;
  /** By the local clock, when the claim was asked for: the lease is counted from no later than this. */
  readonly grantedAt: number;
  /** Set on a takeover: the attempt that held the token before, which may have reached AWS. */
  readonly previousOwner: string | undefined;
}

/** The refusals, by the outcome they are counted as. */
export type Refusal = Extract<IdempotencyOutcomeKind, "mismatch" | "in_flight" | "store_error">;

export type GuardState<O extends DescMessage> =
  /** Asks the store for the token (unless an owner in this process holds it). */
  | { readonly name: "claiming" }
  /** A claim failed after this call had waited: try again within the wait budget. */
  | { readonly name: "backing_off" }
  /** The store said another request used the token: was it this one, in an older fingerprint version? */
  | { readonly name: "matching_version" }
  /** The owner runs in this process and says when it is done. */
  | { readonly name: "waiting_local"; readonly done: Promise<void> }
  /** The owner runs elsewhere: poll the record with backoff. */
  | {
      readonly name: "waiting";
      readonly polls: number;
      /** What the last read said of the owner's lease, for the retry hint. */
      readonly leaseLeftMs: number;
      /** The last read's failure; cleared by a read that answers. */
      readonly storeError: unknown;
    }
  /** This call owns the token and runs the backend call. */
  | { readonly name: "executing"; readonly claim: HeldClaim }
  /** The record ends with an outcome worth replaying. */
  | {
      readonly name: "completing";
      readonly ownership: Ownership;
      readonly owner: string;
      readonly stored: IdempotencyOutcome;
      readonly answer: Answer<O>;
    }
  /** The call failed before reaching AWS, or AWS refused it for now: forget the claim. */
  | { readonly name: "releasing"; readonly ownership: Ownership; readonly owner: string; readonly error: unknown }
  /** The call may have taken effect: keep the record for a takeover that reconciles. */
  | { readonly name: "abandoning"; readonly ownership: Ownership; readonly owner: string; readonly error: unknown }
  /** A stored outcome answers the call. */
  | { readonly name: "replaying"; readonly stored: IdempotencyOutcome }
  /** Final: the caller gets a response, or the error of a call that was decided. */
  | { readonly name: "answered"; readonly answer: Answer<O> }
  /** Final: the guard refused the call; nothing was executed by it. */
  | { readonly name: "refused"; readonly reason: Refusal; readonly error: unknown };

/** What the caller gets. */
export type Answer<O extends DescMessage> =
  { readonly ok: true; readonly response: MessageShape<O> } | { readonly ok: false; readonly error: unknown };

/**
 * The outcome a state decides, if it decides one. Executing decides
 * "claimed" or "reclaimed" whatever the backend then answers; replaying
 * decides "replayed", or "waited" when the call waited for the owner first;
 * a refusal decides its reason (a replay whose bytes do not decode ends
 * refused, as store_error, after replaying decided otherwise: the last
 * decision counts). The other states decide nothing.
 */
export function outcomeOf(state: GuardState<DescMessage>, waited: boolean): IdempotencyOutcomeKind | undefined {
  switch (state.name) {
    case "executing":
      return state.claim.previousOwner === undefined ? "claimed" : "reclaimed";
    case "replaying":
      return waited ? "waited" : "replayed";
    case "refused":
      return state.reason;
    default:
      return undefined;
  }
}

/** Whether entering `state` means the call waits for another call with its token. */
export function isWaiting(state: GuardState<DescMessage>): boolean {
  return state.name === "waiting" || state.name === "waiting_local";
}
