// The one place that turns failures into ConnectErrors for the wire
// (DESIGN.md section 5). Every error leaves with exactly one
// google.rpc.ErrorInfo; AWS errors are mapped on their name, never on their
// HTTP status (RAM's UnknownResourceException is a 400). Causes of
// unexpected failures are logged and never sent.
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
  ResourceInfoSchema,
  RetryInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";
import {
  AwsApiError,
  UpstreamCredentialsError,
  UpstreamNetworkError,
  UpstreamTimeoutError,
  type AwsService,
} from "./backend/errors.js";
import type { Logger } from "./logger.js";
import { RequestValidationError } from "./validation.js";

/** The ErrorInfo domain of errors that are the gateway's own. */
export const GATEWAY_DOMAIN = "permission-gateway";

const awsDomain: Record<AwsService, string> = { lambda: "lambda.amazonaws.com", ram: "ram.amazonaws.com" };

/** What a call was about: named in ResourceInfo, PreconditionFailure and QuotaFailure. */
export interface ErrorSubject {
  /** e.g. "lambda:function" or "ram:permission". */
  readonly resourceType: string;
  /** The function name / ARN or permission ARN the caller gave. */
  readonly resourceName: string;
}

type Detail = { desc: DescMessage; value: MessageInitShape<DescMessage> };

type AwsRule =
  | { code: Code; detail: "bad-request" | "resource-info" | "retry" | "none" }
  | { code: Code; detail: "precondition"; violation: string }
  | { code: Code; detail: "quota" }
  | { code: Code; detail: "none"; reason: string; gatewayOwned: true; message: string };

const invalid: AwsRule = { code: Code.InvalidArgument, detail: "bad-request" };
const notFound: AwsRule = { code: Code.NotFound, detail: "resource-info" };
const exists: AwsRule = { code: Code.AlreadyExists, detail: "resource-info" };
const quota: AwsRule = { code: Code.ResourceExhausted, detail: "quota" };
const throttled: AwsRule = { code: Code.ResourceExhausted, detail: "retry" };
const unavailable: AwsRule = { code: Code.Unavailable, detail: "retry" };
const credentialsMessage = "the gateway's AWS credentials are missing, invalid or expired";
const credentials: AwsRule = {
  code: Code.Internal,
  detail: "none",
  reason: "UPSTREAM_CREDENTIALS",
  gatewayOwned: true,
  message: credentialsMessage,
};

/** The error table of DESIGN.md section 5, keyed by AWS error name. */
const awsRules: Readonly<Record<string, AwsRule>> = {
  InvalidParameterValueException: invalid,
  ValidationException: invalid,
  InvalidClientTokenException: invalid,
  MalformedArnException: invalid,
  InvalidParameterException: invalid,
  InvalidPolicyException: invalid,
  MalformedPolicyTemplateException: invalid,
  InvalidNextTokenException: invalid,
  InvalidRequestContentException: invalid,
  MissingRequiredParameterException: invalid,
  InvalidMaxResultsException: invalid,
  ResourceNotFoundException: notFound,
  UnknownResourceException: notFound,
  PreconditionFailedException: { code: Code.FailedPrecondition, detail: "precondition", violation: "REVISION_ID" },
  PublicPolicyException: { code: Code.FailedPrecondition, detail: "precondition", violation: "PUBLIC_POLICY" },
  OperationNotPermittedException: {
    code: Code.FailedPrecondition,
    detail: "precondition",
    violation: "OPERATION_NOT_PERMITTED",
  },
  IdempotentParameterMismatchException: { code: Code.FailedPrecondition, detail: "none" },
  ResourceConflictException: exists,
  PermissionAlreadyExistsException: exists,
  PolicyLengthExceededException: quota,
  PermissionLimitExceededException: quota,
  PermissionVersionsLimitExceededException: quota,
  TooManyRequestsException: throttled,
  ThrottlingException: throttled,
  ServiceException: unavailable,
  ServerInternalException: unavailable,
  ServiceUnavailableException: unavailable,
  AccessDeniedException: {
    code: Code.PermissionDenied,
    detail: "none",
    reason: "UPSTREAM_ACCESS_DENIED",
    gatewayOwned: true,
    message: "the gateway's AWS identity is not allowed to perform this action",
  },
  ExpiredTokenException: credentials,
  UnrecognizedClientException: credentials,
  InvalidSignatureException: credentials,
};

/** Seconds suggested to a caller retrying after a transient failure with no Retry-After. */
const defaultRetryDelayMs = 1000;

/**
 * Maps any failure of a call to a ConnectError. ConnectErrors pass through
 * unchanged (they were built for the wire already).
 */
export function toConnectError(error: unknown, subject: ErrorSubject, logger: Logger): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof RequestValidationError) return invalidArgument(error);
  if (error instanceof AwsApiError) return fromAwsApiError(error, subject, logger);
  if (error instanceof UpstreamTimeoutError) {
    if (error.cancelled) return gatewayError(Code.Canceled, "the call was cancelled", "CANCELLED", []);
    if (error.callerDeadlineExceeded) {
      return gatewayError(Code.DeadlineExceeded, `${error.service} did not answer before the deadline`, "UPSTREAM_TIMEOUT", []);
    }
    return gatewayError(Code.Unavailable, `${error.service} timed out; retry later`, "UPSTREAM_TIMEOUT", [
      retryInfo(defaultRetryDelayMs),
    ]);
  }
  if (error instanceof UpstreamNetworkError) {
    logger.warn("upstream unreachable", { service: error.service, error });
    return gatewayError(Code.Unavailable, `${error.service} could not be reached; retry later`, "UPSTREAM_UNAVAILABLE", [
      retryInfo(defaultRetryDelayMs),
    ]);
  }
  if (error instanceof UpstreamCredentialsError) {
    logger.error("upstream credentials failed", { service: error.service, error });
    const metadata: Record<string, string> = error.code === undefined ? {} : { awsErrorCode: error.code };
    return gatewayError(Code.Internal, credentialsMessage, "UPSTREAM_CREDENTIALS", [], metadata);
  }
  logger.error("unexpected failure", { error });
  return gatewayError(Code.Internal, "internal error", "INTERNAL", []);
}

/** INVALID_ARGUMENT with one FieldViolation per broken field. */
function invalidArgument(error: RequestValidationError): ConnectError {
  const fieldViolations = error.violations.map((v) => ({ field: v.field, description: v.description }));
  return gatewayError(Code.InvalidArgument, error.message, "INVALID_REQUEST", [
    { desc: BadRequestSchema, value: { fieldViolations } },
  ]);
}

/** An error of the gateway's own (domain permission-gateway). */
export function gatewayError(
  code: Code,
  message: string,
  reason: string,
  details: Detail[],
  metadata: Record<string, string> = {},
): ConnectError {
  return new ConnectError(message, code, undefined, [errorInfo(reason, GATEWAY_DOMAIN, metadata), ...details]);
}

export function retryInfo(delayMs: number): Detail {
  return { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(Math.max(0, Math.round(delayMs))) } };
}

function fromAwsApiError(error: AwsApiError, subject: ErrorSubject, logger: Logger): ConnectError {
  const rule = awsRules[error.code];
  const metadata: Record<string, string> = { awsErrorCode: error.code };
  if (error.requestId !== undefined) metadata["awsRequestId"] = error.requestId;
  if (error.httpStatus !== undefined) metadata["httpStatus"] = String(error.httpStatus);
  if (rule === undefined) {
    logger.error("unmapped AWS error", { service: error.service, awsErrorCode: error.code, error });
    return gatewayError(Code.Internal, "internal error", "INTERNAL", [], metadata);
  }
  if ("gatewayOwned" in rule) {
    logger.error("upstream refused the gateway's identity", { service: error.service, error });
    return gatewayError(rule.code, rule.message, rule.reason, [], metadata);
  }
  const details: Detail[] = [errorInfo(reasonOf(error.code), awsDomain[error.service], metadata)];
  switch (rule.detail) {
    case "bad-request":
      details.push({
        desc: BadRequestSchema,
        value: { fieldViolations: [{ field: fieldNamedIn(error.message), description: error.message }] },
      });
      break;
    case "resource-info":
      details.push({
        desc: ResourceInfoSchema,
        value: { resourceType: subject.resourceType, resourceName: subject.resourceName, description: error.message },
      });
      break;
    case "precondition":
      details.push({
        desc: PreconditionFailureSchema,
        value: { violations: [{ type: rule.violation, subject: subject.resourceName, description: error.message }] },
      });
      break;
    case "quota":
      details.push({
        desc: QuotaFailureSchema,
        value: { violations: [{ subject: subject.resourceName, description: error.message }] },
      });
      break;
    case "retry":
      details.push(retryInfo(error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : defaultRetryDelayMs));
      break;
    case "none":
      break;
  }
  return new ConnectError(error.message, rule.code, undefined, details);
}

function errorInfo(reason: string, domain: string, metadata: Record<string, string>): Detail {
  return { desc: ErrorInfoSchema, value: { reason, domain, metadata } };
}

/** "ResourceNotFoundException" -> "RESOURCE_NOT_FOUND". */
export function reasonOf(awsErrorCode: string): string {
  return awsErrorCode
    .replace(/Exception$/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase();
}

/** AWS validation messages name the member: "Value 'x' at 'statementId' failed ...". */
function fieldNamedIn(message: string): string {
  return /\bat '([A-Za-z][\w.]*)'/.exec(message)?.[1] ?? "";
}
