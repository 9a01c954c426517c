// Turns whatever an SDK call rejected with into one of the backend's domain
// errors. AWS errors are recognised by their `name` (the x-amzn-ErrorType the
// SDK surfaces), never by HTTP status; nothing of the SDK error leaves except
// as `cause`, which the gateway logs and never sends.
import type { CallOptions } from "../backend.js";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamTimeoutError,
  type AwsService,
  type MissingResource,
} from "../errors.js";
import { RetryWouldPassDeadlineError } from "./deadline-guard.js";
import { retryAfterSecondsOf } from "./retry-after.js";

/** What the failed call was, for errors whose meaning depends on it. */
export interface FailedCall {
  readonly service: AwsService;
  readonly call: CallOptions;
  /** GetPermission with an explicit version: a missing resource may be that version. */
  readonly permissionVersion?: number | undefined;
  readonly now: () => number;
}

/**
 * AWS names meaning the gateway's own identity cannot sign or is not
 * recognised: the common errors every AWS API may answer. The JSON protocols
 * spell them with "Exception", the query-style ones without, and some
 * front ends answer in the other style, so both spellings are listed.
 * (RAM's InvalidClientTokenException is about the request's clientToken, not
 * about credentials, and is deliberately absent.)
 */
const credentialErrorNames = new Set([
  "ExpiredTokenException",
  "ExpiredToken",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "IncompleteSignature",
  "MissingAuthenticationTokenException",
  "MissingAuthenticationToken",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
]);

/** Raised by the SDK before any request when no usable credentials were found. */
const credentialProviderErrorNames = new Set(["CredentialsProviderError", "TokenProviderError"]);

/** Node socket and DNS failures: AWS was not reached, or the connection broke. */
const networkErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
]);

/** gRPC's DEADLINE_EXCEEDED, as carried by a Connect deadline signal's reason. */
const deadlineExceededCode = 4;

/**
 * Timers may fire a little before Date.now() reaches the deadline; an abort
 * this close to it is the deadline, not a cancellation.
 */
const deadlineSlackMs = 25;

export function translateSdkError(error: unknown, failed: FailedCall): Error {
  // The deadline guard ended the SDK's retries; AWS's last answer is the outcome.
  if (error instanceof RetryWouldPassDeadlineError) return translateSdkError(error.finalError, failed);
  const { service, call } = failed;
  const sdk = asRecord(error);
  const name = typeof sdk["name"] === "string" ? sdk["name"] : "";
  const message = error instanceof Error ? error.message : String(error);
  const metadata = asRecord(sdk["$metadata"]);
  const httpStatus = typeof metadata["httpStatusCode"] === "number" ? metadata["httpStatusCode"] : undefined;

  if (credentialProviderErrorNames.has(name)) {
    return new UpstreamCredentialsError(service, `no usable AWS credentials: ${message}`, { cause: error, code: name });
  }

  // An HTTP answer the SDK could not read as an AWS error (an HTML page from a
  // proxy or load balancer): not an AWS error name, so never an AwsApiError.
  if (httpStatus !== undefined && sdk["$fault"] === undefined && name !== "AbortError" && name !== "TimeoutError") {
    if (httpStatus >= 500) {
      return new UpstreamNetworkError(service, `${service} answered HTTP ${httpStatus} in a form that is not AWS's`, { cause: error });
    }
    return new Error(`unexpected ${service} answer: HTTP ${httpStatus} in a form that is not AWS's`, { cause: error });
  }

  // AWS answered: whatever happened to the caller meanwhile, this is the outcome.
  if (httpStatus !== undefined && name !== "" && name !== "AbortError" && name !== "TimeoutError") {
    if (credentialErrorNames.has(name)) {
      return new UpstreamCredentialsError(service, `${service} refused the gateway's credentials: ${message}`, {
        cause: error,
        code: name,
      });
    }
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

/** The error for a call the caller abandoned, by deadline or by cancelling. */
export function callerAbortError(service: AwsService, call: CallOptions, now: number, cause?: unknown): UpstreamTimeoutError {
  const options = cause === undefined ? {} : { cause };
  if (callerDeadlinePassed(call, now)) {
    return new UpstreamTimeoutError(service, `the caller's deadline passed before ${service} answered`, true, options);
  }
  return new UpstreamTimeoutError(service, `the caller cancelled the ${service} call`, false, {
    ...options,
    cancelled: true,
  });
}

function callerDeadlinePassed(call: CallOptions, now: number): boolean {
  const reason = asRecord(call.signal.reason);
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if (reason["name"] === "TimeoutError") return true;
  if (reason["name"] === "ConnectError" && reason["code"] === deadlineExceededCode) return true;
  return call.deadline !== undefined && now >= call.deadline - deadlineSlackMs;
}

/**
 * Lambda answers ResourceNotFoundException for a missing function, version,
 * alias, policy or statement alike; only its message tells them apart, and
 * allow_missing must treat a gone statement as success but a gone function
 * as an error. Unrecognised messages stay unclassified, which is the safe side.
 */
export function missingResourceOf(
  service: AwsService,
  code: string,
  message: string,
  permissionVersion?: number,
): MissingResource | undefined {
  if (service === "ram") {
    if (code !== "UnknownResourceException") return undefined;
    return permissionVersion !== undefined && /\bversion\b/i.test(message) ? "permission-version" : "permission";
  }
  if (code !== "ResourceNotFoundException") return undefined;
  // "Function not found: arn:aws:lambda:us-east-1:123456789012:function:demo[:qualifier]"
  const functionArn = /^Function not found: (\S+)/.exec(message)?.[1];
  if (functionArn !== undefined) return /:function:[^:]+:[^:]+$/.test(functionArn) ? "qualifier" : "function";
  if (/\b(alias|version)\b[^.]*\b(not found|does not exist)/i.test(message)) return "qualifier";
  if (/\bstatement\b/i.test(message)) return "statement";
  if (/\bpolicy\b/i.test(message) || /^The resource you requested does not exist/i.test(message)) return "policy";
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}
