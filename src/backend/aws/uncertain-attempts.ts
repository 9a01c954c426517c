// Keeps the SDK from retrying a Lambda mutation after an attempt that may
// have taken effect. The standard retry strategy retries timeouts and broken
// connections as transient, which is right for a read or a refused
// connection, and wrong for an AddPermission whose request reached Lambda:
// the retry then meets the first attempt's statement and answers "already
// exists" for work that succeeded. Such an attempt ends the call instead, as
// an unknown outcome, which the reconciling decorator settles by reading the
// policy. Throttling, AWS's own error answers and connections that never
// opened are still retried; an answer with a 5xx status is retried too, but
// marks the call as one whose outcome is unknown (AWS may answer 500 after
// making the change).
import type { DeserializeMiddleware, FinalizeRequestMiddleware, MiddlewareStack } from "@smithy/types";
import { RetryWouldPassDeadlineError } from "./deadline-guard.js";

/** Where one call's attempts stand; the adapter reads it when the caller aborts. */
export interface AttemptTracker {
  /** An attempt's request is with the HTTP handler (sent, or being sent) and has no answer yet. */
  inFlight: boolean;
  /**
   * An attempt was answered with a server error (HTTP 5xx), which AWS may
   * give after it made the change: the SDK still retries it, and whatever the
   * call then ends with, its outcome is unknown (aws-backend.ts).
   */
  answeredServerError: boolean;
}

/**
 * Thrown from inside the SDK's retry loop to end it. Like the deadline guard's
 * error it deliberately has no `cause`, `code` or `$metadata`: the standard
 * strategy would find those retryable (it looks through `cause`) and try again.
 */
export class UncertainAttemptError extends Error {
  override readonly name = "UncertainAttemptError" as const;
  constructor(readonly attemptError: unknown) {
    super("the request may have reached AWS, and no answer came back");
  }
}

/** Node's errors for a connection that never opened: nothing was sent. */
export const neverConnectedCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
]);

/**
 * Whether a failed attempt that reached the HTTP handler may have taken
 * effect: anything but an answer from AWS, a connection that never opened,
 * or the handler's connect timeout. A reset, a broken pipe, a socket that
 * hangs up and a request timeout after connecting all may have.
 */
function mayHaveTakenEffect(error: unknown): boolean {
  const e = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
  const metadata = e["$metadata"] as { httpStatusCode?: unknown } | undefined;
  if (typeof metadata?.httpStatusCode === "number") return false;
  if (e["name"] === "AbortError") return false;
  if (typeof e["code"] === "string" && neverConnectedCodes.has(e["code"])) return false;
  // The node-http-handler's connect timeout: the socket never connected.
  const message = typeof e["message"] === "string" ? e["message"] : "";
  return !(e["name"] === "TimeoutError" && e["code"] === undefined && /did not establish a connection/.test(message));
}

/** An answer from AWS with a 5xx status: the request reached AWS, and may have taken effect before the failure. */
function answeredServerError(error: unknown): boolean {
  const metadata =
    typeof error === "object" && error !== null ? (error as { $metadata?: unknown }).$metadata : undefined;
  const status =
    typeof metadata === "object" && metadata !== null
      ? (metadata as { httpStatusCode?: unknown }).httpStatusCode
      : undefined;
  return typeof status === "number" && status >= 500;
}

/**
 * Adds, to one command's stack, a marker around the HTTP exchange itself (the
 * innermost deserialize step) and a guard around each attempt (inside the
 * retry middleware) that ends the retries after an uncertain attempt.
 */
export function stopRetriesAfterUncertainAttempt<I extends object, O extends object>(
  stack: Pick<MiddlewareStack<I, O>, "add" | "addRelativeTo">,
  tracker: AttemptTracker,
): void {
  let dispatched = false;
  const marker: DeserializeMiddleware<I, O> = (next) => async (args) => {
    dispatched = true;
    tracker.inFlight = true;
    try {
      return await next(args);
    } finally {
      tracker.inFlight = false;
    }
  };
  const guard: FinalizeRequestMiddleware<I, O> = (next) => async (args) => {
    dispatched = false;
    try {
      return await next(args);
    } catch (error) {
      // The deadline guard (inside this one) ends the retries after an answer from AWS: judge that answer.
      const attemptError = error instanceof RetryWouldPassDeadlineError ? error.finalError : error;
      if (dispatched && mayHaveTakenEffect(attemptError)) throw new UncertainAttemptError(error);
      if (dispatched && answeredServerError(attemptError)) tracker.answeredServerError = true;
      throw error;
    }
  };
  stack.add(marker, { step: "deserialize", priority: "low", name: "permissionGatewayAttemptMarker", override: true });
  stack.addRelativeTo(guard, {
    name: "permissionGatewayUncertainAttemptGuard",
    relation: "after",
    toMiddleware: "retryMiddleware",
    override: true,
  });
}
