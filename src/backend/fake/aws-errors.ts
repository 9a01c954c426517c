// The AWS errors the fake can answer with, as the API references and the
// service models (the `httpError` traits of @aws-sdk/client-lambda and
// @aws-sdk/client-ram) define them. The gateway maps on the code, never the
// status, so the status has to be AWS's own: RAM answers 400 for a missing
// permission, Lambda 404 for a missing function.
import { randomUUID } from "node:crypto";
import { AwsApiError } from "../errors.js";
import type { AwsService, MissingResource } from "../errors.js";

interface AwsErrorSpec {
  readonly httpStatus: number;
  /** The message AWS sends when nothing more specific applies. */
  readonly message: string;
  readonly throttling?: boolean | undefined;
  /** What a not-found error means when injected as a fault. */
  readonly missing?: MissingResource | undefined;
}

/** The Common Errors of every AWS API reference: the caller's own identity. */
const commonErrors = {
  AccessDeniedException: { httpStatus: 403, message: "You don't have sufficient access to perform this action." },
  ExpiredTokenException: { httpStatus: 403, message: "The security token included in the request is expired." },
  UnrecognizedClientException: { httpStatus: 403, message: "The security token included in the request is invalid." },
} as const satisfies Record<string, AwsErrorSpec>;

const lambdaErrors = {
  InvalidParameterValueException: { httpStatus: 400, message: "One of the parameters in the request is not valid." },
  ResourceNotFoundException: {
    httpStatus: 404,
    message: "The resource you requested does not exist.",
    missing: "policy",
  },
  ResourceConflictException: { httpStatus: 409, message: "The resource already exists, or another operation is in progress." },
  PreconditionFailedException: {
    httpStatus: 412,
    message: "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
  },
  PolicyLengthExceededException: { httpStatus: 400, message: "The final policy size is bigger than the limit (20480)." },
  PublicPolicyException: {
    httpStatus: 400,
    message: "Lambda function access policy would grant public access and is blocked by the account's Block Public Access settings.",
  },
  TooManyRequestsException: { httpStatus: 429, message: "Rate exceeded", throttling: true },
  ServiceException: { httpStatus: 500, message: "The Lambda service encountered an internal error." },
  ...commonErrors,
} as const satisfies Record<string, AwsErrorSpec>;

const ramErrors = {
  UnknownResourceException: {
    httpStatus: 400,
    message: "The operation failed because a specified resource couldn't be found.",
    missing: "permission",
  },
  OperationNotPermittedException: { httpStatus: 400, message: "The operation failed because the requested operation isn't permitted." },
  MalformedArnException: {
    httpStatus: 400,
    message: "The operation failed because the specified Amazon Resource Name (ARN) has a format that isn't valid.",
  },
  InvalidParameterException: { httpStatus: 400, message: "The operation failed because a parameter you specified isn't valid." },
  InvalidPolicyException: { httpStatus: 400, message: "The operation failed because a policy you specified isn't valid." },
  MalformedPolicyTemplateException: {
    httpStatus: 400,
    message: "The operation failed because the policy template that you provided isn't valid.",
  },
  PermissionAlreadyExistsException: {
    httpStatus: 409,
    message: "The operation failed because a permission with the specified name already exists in the requested Amazon Web Services Region.",
  },
  PermissionLimitExceededException: {
    httpStatus: 400,
    message: "The operation failed because it would exceed the maximum number of permissions you can create in each Amazon Web Services Region.",
  },
  PermissionVersionsLimitExceededException: {
    httpStatus: 400,
    message: "The operation failed because it would exceed the limit for the number of versions you can have for a permission.",
  },
  IdempotentParameterMismatchException: {
    httpStatus: 400,
    message:
      "The operation failed because the client token input parameter matched one that was used with a previous call to the operation, but at least one of the other input parameters is different from the previous call.",
  },
  InvalidClientTokenException: { httpStatus: 400, message: "The operation failed because the specified client token isn't valid." },
  InvalidNextTokenException: { httpStatus: 400, message: "The operation failed because the specified value for NextToken isn't valid." },
  ServerInternalException: {
    httpStatus: 500,
    message: "The operation failed because the service could not respond to the request due to an internal problem. Try again later.",
  },
  ServiceUnavailableException: { httpStatus: 503, message: "The operation failed because the service isn't available. Try again later." },
  ThrottlingException: { httpStatus: 429, message: "Rate exceeded", throttling: true },
  ...commonErrors,
} as const satisfies Record<string, AwsErrorSpec>;

export type LambdaErrorCode = keyof typeof lambdaErrors;
export type RamErrorCode = keyof typeof ramErrors;
export type FakeAwsErrorCode = LambdaErrorCode | RamErrorCode;

const catalogue: Record<AwsService, Readonly<Record<string, AwsErrorSpec>>> = { lambda: lambdaErrors, ram: ramErrors };

/** Each service's throttling error: the default fault. */
export const throttlingErrorCode: Readonly<Record<AwsService, FakeAwsErrorCode>> = {
  lambda: "TooManyRequestsException",
  ram: "ThrottlingException",
};

/** The error codes the fake knows for a service, in catalogue order. */
export function knownErrorCodes(service: AwsService): readonly string[] {
  return Object.keys(catalogue[service]);
}

/** The services whose API references define `code`: one, or both for a common error. */
export function servicesOfErrorCode(code: string): AwsService[] {
  return (["lambda", "ram"] as const).filter((service) => Object.hasOwn(catalogue[service], code));
}

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
  const spec = Object.hasOwn(catalogue[service], code) ? catalogue[service][code] : undefined;
  if (spec === undefined) throw new Error(`${code} is not an error of the ${service} API`);
  return new AwsApiError({
    service,
    code,
    message: extras.message ?? spec.message,
    httpStatus: spec.httpStatus,
    requestId: randomUUID(),
    retryAfterSeconds: spec.throttling === true ? (extras.retryAfterSeconds ?? 1) : undefined,
    missing: extras.missing ?? spec.missing,
  });
}
