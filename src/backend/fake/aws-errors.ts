// The fake's AWS errors, built from the shared catalogue (src/aws/
// error-catalogue.ts): the status, the default message and, for not-found
// errors, what is missing, read off the message exactly as the AWS adapter
// reads real answers.
import { randomUUID } from "node:crypto";
import { awsErrorSpec } from "../../aws/error-catalogue.js";
import { missingResourceOf } from "../../aws/missing-resource.js";
import { AwsApiError } from "../errors.js";
import type { AwsService, MissingResource } from "../errors.js";

export interface AwsErrorExtras {
  readonly message?: string | undefined;
  readonly missing?: MissingResource | undefined;
  /** Used for throttling errors only; AWS sends Retry-After with them. */
  readonly retryAfterSeconds?: number | undefined;
}

/**
 * An AwsApiError exactly as the service would answer: its status, a fresh
 * request ID, Retry-After on throttling. Throws a plain Error for a code the
 * service does not have, since that is a bug in the fake, not an AWS answer.
 */
export function createAwsError(service: AwsService, code: string, extras: AwsErrorExtras = {}): AwsApiError {
  const spec = awsErrorSpec(service, code);
  if (spec === undefined) throw new Error(`${code} is not an error of the ${service} API`);
  const message = extras.message ?? spec.message;
  // An AWS answer, not a bug: where in the fake it was made says nothing, and
  // capturing a stack for each costs more than the rest of the answer (the
  // fake answers NOT_FOUND on the hot path of allow_missing removals).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new AwsApiError({
      service,
      code,
      message,
      httpStatus: spec.httpStatus,
      requestId: randomUUID(),
      retryAfterSeconds: spec.kind === "throttling" ? (extras.retryAfterSeconds ?? 1) : undefined,
      missing: extras.missing ?? missingResourceOf(service, code, message),
    });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}
