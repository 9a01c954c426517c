// Turns whatever an SDK call rejected with into one of the backend's domain
// errors. AWS errors are recognised by their `name` (the x-amzn-ErrorType the
// SDK surfaces), never by HTTP status, and read with the same tables the fake
// answers from (src/aws/); nothing of the SDK error leaves except as
// `cause`, which the gateway logs and never sends.
import type { CallOptions } from "../backend.js";
import { abortReasonOf, callerAbortError } from "../abort.js";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamOutcomeUnknownError,
  UpstreamTimeoutError,
  type AwsService,
} from "../errors.js";
import { missingResourceOf } from "../../aws/missing-resource.js";
import { RetryWouldPassDeadlineError } from "./deadline-guard.js";
import { LeaseLostBeforeSendError } from "./lease-check.js";
import { retryAfterSecondsOf } from "./retry-after.js";
import { neverConnectedCodes, UncertainAttemptError } from "./uncertain-attempts.js";
import { errorMessage } from "../../util/error-message.js";

/** What the failed call was, for errors whose meaning depends on it. */
export interface FailedCall {
  readonly service: AwsService;
  readonly call: CallOptions;
  /** GetPermission with an explicit version: a missing resource may be that version. */
  readonly permissionVersion?: number | undefined;
  readonly now: () => number;
}

/** Raised by the SDK before any request when no usable credentials were found. */
const credentialProviderErrorNames = new Set(["CredentialsProviderError", "TokenProviderError"]);

/** Node socket and DNS failures: AWS was not reached, or the connection broke. */
const networkErrorCodes: ReadonlySet<string> = new Set([...neverConnectedCodes, "ECONNRESET", "ECONNABORTED", "EPIPE"]);

export function translateSdkError(error: unknown, failed: FailedCall): Error {
  // The deadline guard ended the SDK's retries; AWS's last answer is the outcome.
  if (error instanceof RetryWouldPassDeadlineError) return translateSdkError(error.finalError, failed);
  if (error instanceof UncertainAttemptError) {
    return new UpstreamOutcomeUnknownError(
      failed.service,
      `${failed.service} did not answer, and the request may have taken effect`,
      {
        cause: error.attemptError,
      },
    );
  }
  const { service, call } = failed;
  if (error instanceof LeaseLostBeforeSendError) {
    return new UpstreamTimeoutError(
      service,
      `the call's idempotency lease ran out; nothing was sent to ${service}`,
      false,
      {
        cause: error,
      },
    );
  }
  const sdk = asRecord(error);
  const name = typeof sdk["name"] === "string" ? sdk["name"] : "";
  const message = errorMessage(error);
  const metadata = asRecord(sdk["$metadata"]);
  const httpStatus = typeof metadata["httpStatusCode"] === "number" ? metadata["httpStatusCode"] : undefined;

  if (credentialProviderErrorNames.has(name)) {
    return new UpstreamCredentialsError(service, `no usable AWS credentials: ${message}`, { cause: error, code: name });
  }

  // An HTTP answer the SDK could not read as an AWS error (an HTML page from a
  // proxy or load balancer): not an AWS error name, so never an AwsApiError.
  if (httpStatus !== undefined && sdk["$fault"] === undefined && name !== "AbortError" && name !== "TimeoutError") {
    if (httpStatus >= 500) {
      return new UpstreamNetworkError(service, `${service} answered HTTP ${httpStatus} in a form that is not AWS's`, {
        cause: error,
      });
    }
    return new Error(`unexpected ${service} answer: HTTP ${httpStatus} in a form that is not AWS's`, { cause: error });
  }

  // AWS answered: whatever happened to the caller meanwhile, this is the outcome.
  if (httpStatus !== undefined && name !== "" && name !== "AbortError" && name !== "TimeoutError") {
    return new AwsApiError({
      service,
      code: name,
      message,
      httpStatus,
      requestId: typeof metadata["requestId"] === "string" ? metadata["requestId"] : undefined,
      retryAfterSeconds: retryAfterSecondsOf(error, failed.now()),
      missing: missingResourceOf(service, name, message, failed.permissionVersion),
      cause: error,
    });
  }

  if (call.signal.aborted) return callerAbortError(service, call, failed.now(), error);

  const code = typeof sdk["code"] === "string" ? sdk["code"] : "";
  // The SDK's handler renames ECONNRESET and EPIPE to TimeoutError; the code still tells.
  if (networkErrorCodes.has(code) || /socket hang up/i.test(message)) {
    return new UpstreamNetworkError(service, `${service} could not be reached (${code || "connection closed"})`, {
      cause: error,
    });
  }
  if (name === "TimeoutError" || name === "AbortError" || code === "ETIMEDOUT") {
    return new UpstreamTimeoutError(service, `${service} did not answer within the request timeout`, false, {
      cause: error,
    });
  }
  return new Error(`unexpected ${service} SDK failure: ${name || "unknown"}`, { cause: error });
}

/**
 * A mutation's attempt was answered with a 5xx, which AWS may give after it
 * made the change, and the call then failed (with that answer, or a later
 * attempt's "already exists", "not found", throttling...): its outcome is
 * unknown, so the reconciling decorator reads the actual state.
 */
export function afterServerErrorAnswer(translated: Error, failed: FailedCall): UpstreamOutcomeUnknownError {
  if (translated instanceof UpstreamOutcomeUnknownError) return translated;
  const { service, call } = failed;
  return new UpstreamOutcomeUnknownError(
    service,
    `an attempt was answered with a server error, after which the request may have taken effect; the call ended with: ${translated.message}`,
    { cause: translated, abort: call.signal.aborted ? abortReasonOf(call, failed.now()) : undefined },
  );
}

/**
 * The caller's deadline or cancellation ended a mutation while its request
 * was with AWS: it may have taken effect, so the caller is told the outcome
 * is unknown (with the code its abort calls for), not that nothing happened.
 */
export function abortedInFlightError(
  service: AwsService,
  call: CallOptions,
  now: number,
  cause: unknown,
): UpstreamOutcomeUnknownError {
  const abort = abortReasonOf(call, now);
  const ended = abort === "deadline" ? "the caller's deadline passed" : "the caller cancelled";
  return new UpstreamOutcomeUnknownError(
    service,
    `${ended} while the ${service} request was in flight; it may have taken effect`,
    {
      cause,
      abort,
    },
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}
