// The gateway's own idempotency errors. They are not backend failures, so
// the guard names them here; src/errors.ts still builds them, so they have
// the shape of every other error (one ErrorInfo, domain permission-gateway,
// RetryInfo where a retry can succeed).
import { Code, type ConnectError } from "@connectrpc/connect";
import { gatewayError, retryInfo } from "../errors.js";

export const IdempotencyErrorReason = {
  parameterMismatch: "IDEMPOTENT_PARAMETER_MISMATCH",
  requestInFlight: "IDEMPOTENCY_REQUEST_IN_FLIGHT",
  storeUnavailable: "IDEMPOTENCY_STORE_UNAVAILABLE",
  leaseLost: "IDEMPOTENCY_LEASE_LOST",
  // The same reasons src/errors.ts gives a cancelled or timed-out backend call.
  cancelled: "CANCELLED",
  deadlineExceeded: "DEADLINE_EXCEEDED",
} as const;

/** The token was used before, by this caller on this RPC, with other parameters. */
export function idempotencyMismatchError(tokenField: string): ConnectError {
  return gatewayError(
    Code.FailedPrecondition,
    `${tokenField} was already used with different request parameters; use a new token for a different request`,
    IdempotencyErrorReason.parameterMismatch,
    [],
    { tokenField },
  );
}

/** Another call with this token still runs and did not finish within our wait. */
export function idempotencyInFlightError(retryAfterMs: number): ConnectError {
  return gatewayError(
    Code.Aborted,
    "a request with this idempotency token is still in progress; retry with the same token later",
    IdempotencyErrorReason.requestInFlight,
    [retryInfo(retryAfterMs)],
  );
}

/** The store could not be asked or answered nonsense: nothing was executed. The guard logs the cause. */
export function idempotencyStoreUnavailableError(retryAfterMs: number): ConnectError {
  return gatewayError(
    Code.Unavailable,
    "the idempotency store is unavailable; the request was not executed",
    IdempotencyErrorReason.storeUnavailable,
    [retryInfo(retryAfterMs)],
  );
}

/** The caller cancelled while its duplicate waited for the owner's outcome. */
export function idempotencyWaitCancelledError(): ConnectError {
  return gatewayError(
    Code.Canceled,
    "the call was cancelled while a request with this idempotency token was in progress",
    IdempotencyErrorReason.cancelled,
    [],
  );
}

/** The caller's deadline ran out in the guard itself: waiting for the store or for the owner. */
export function idempotencyDeadlineExceededError(): ConnectError {
  return gatewayError(
    Code.DeadlineExceeded,
    "the deadline passed before the idempotency check finished; nothing was executed",
    IdempotencyErrorReason.deadlineExceeded,
    [],
  );
}

/**
 * The owner's lease could not be renewed (the store did not answer in time,
 * or another call took the token over), so its backend call was stopped. It
 * may or may not have taken effect: the retry takes the token over and the
 * backend reconciles with the actual state.
 */
export function idempotencyLeaseLostError(retryAfterMs: number): ConnectError {
  return gatewayError(
    Code.Unavailable,
    "the call was stopped because its idempotency lease could not be renewed; retry with the same token",
    IdempotencyErrorReason.leaseLost,
    [retryInfo(retryAfterMs)],
  );
}
