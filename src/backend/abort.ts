// The one meaning of an aborted call, shared by every adapter: whether the
// caller's signal fired because its deadline passed or because it went away.
// Both backends (and the fake's fault injector) answer the same abort with
// the same error.
import type { CallOptions } from "./backend.js";
import { UpstreamTimeoutError, type AbortReason, type AwsService } from "./errors.js";

/** gRPC's DEADLINE_EXCEEDED, as carried by a Connect deadline signal's reason. */
const deadlineExceededCode = 4;

/**
 * Timers may fire a little before the clock reaches the deadline; an abort
 * this close to it is the deadline, not a cancellation.
 */
const deadlineSlackMs = 25;

/** Why `options.signal` aborted (or would be reported as, if it aborted now). */
export function abortReasonOf(options: CallOptions, now: number): AbortReason {
  const reason: unknown = options.signal.reason;
  const named = typeof reason === "object" && reason !== null ? (reason as { name?: unknown; code?: unknown }) : {};
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if (named.name === "TimeoutError") return "deadline";
  if (named.name === "ConnectError" && named.code === deadlineExceededCode) return "deadline";
  return options.deadline !== undefined && now >= options.deadline - deadlineSlackMs ? "deadline" : "cancelled";
}

/** The error for a call the caller abandoned before any attempt could have taken effect. */
export function callerAbortError(
  service: AwsService,
  options: CallOptions,
  now: number,
  cause?: unknown,
): UpstreamTimeoutError {
  const causeOption = cause === undefined ? {} : { cause };
  if (abortReasonOf(options, now) === "deadline") {
    return new UpstreamTimeoutError(
      service,
      `the caller's deadline passed before ${service} answered`,
      true,
      causeOption,
    );
  }
  return new UpstreamTimeoutError(service, `the caller cancelled the ${service} call`, false, {
    ...causeOption,
    cancelled: true,
  });
}
